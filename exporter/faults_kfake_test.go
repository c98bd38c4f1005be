package exporter_test

// Reliability under faults (issue 11), on an in-process cluster (kfake):
// leader and coordinator moves, injected NOT_LEADER_OR_FOLLOWER and
// NOT_COORDINATOR answers, a broker slower than the poll interval, a broker
// that drops every connection for a while, topics deleted and recreated,
// partitions added, groups deleted, and brokers that speak too old a
// protocol. Each test logs one row of the README's reliability table
// ("| scenario | expected | observed |", see reliabilityRow).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"go.uber.org/goleak"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/metrics"
)

// reliabilityRow logs one row of the README's reliability table. Collect
// them with: go test -v -run 'Fault|Lifecycle|Reliab' ./exporter ./e2e ./worker | grep 'RELIABILITY |'
//
// The observed column must be built from measured values, and the row is
// printed only when every assertion of the test before it held: a failed
// test prints no row (the README table is regenerated from passing runs).
func reliabilityRow(t *testing.T, scenario, expected, observed string) {
	t.Helper()
	if t.Failed() {
		t.Logf("reliability row %q withheld: the test failed", scenario)
		return
	}
	t.Logf("RELIABILITY | %s | %s | %s |", scenario, expected, observed)
}

// countingSource wraps a Source and counts Snapshot calls, and how many
// ran at the same time.
type countingSource struct {
	exporter.Source
	calls atomic.Int32
	at    testenv.Concurrency
}

func (s *countingSource) Snapshot(ctx context.Context) (*kafkaadmin.Snapshot, error) {
	s.calls.Add(1)
	defer s.at.Enter()()
	return s.Source.Snapshot(ctx)
}

// faultRig is a 3-broker kfake cluster with topic "t" (4 partitions,
// partition p holding 10+p records), a simple group "g" committed at 5 on
// every partition, and an exporter polling it as cluster "c".
type faultRig struct {
	t   *testing.T
	ctx context.Context
	c   *kfaketest.Cluster
	ac  *kafkaadmin.Client
	src *countingSource
	e   *exporter.Exporter
	col *metrics.Collector
	end map[string][]int64 // produced records per topic and partition
}

func newFaultRig(t *testing.T, opts exporter.Options, kopts ...kfake.Opt) *faultRig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	kopts = append([]kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(4, "t")}, kopts...)
	c := kfaketest.New(t, kopts...)
	r := &faultRig{t: t, ctx: ctx, c: c, end: map[string][]int64{}}
	for p := int32(0); p < 4; p++ {
		r.produce("t", p, 10+int(p))
	}
	r.commit("g", "t", map[int32]int64{0: 5, 1: 5, 2: 5, 3: 5})

	r.ac = c.Source(t, "c")
	r.src = &countingSource{Source: r.ac}
	if opts.Poll.Interval == 0 {
		opts.Poll.Interval = time.Minute // tests call Poll themselves
	}
	var err error
	r.e, err = exporter.New([]exporter.Source{r.src}, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.col = metrics.NewCollector(r.e.Latest, metrics.Options{})
	return r
}

func (r *faultRig) produce(topic string, p int32, n int) {
	r.t.Helper()
	r.c.Produce(r.t, topic, p, n)
	for int(p) >= len(r.end[topic]) {
		r.end[topic] = append(r.end[topic], 0)
	}
	r.end[topic][p] += int64(n)
}

func (r *faultRig) commit(group, topic string, at map[int32]int64) {
	r.t.Helper()
	r.c.Commit(r.t, group, topic, at)
}

// poll runs one poll and returns the cluster's result and the requests it
// sent, by API.
// recovered polls (at most 20 times) until the cluster is up with group g's
// expected lag on t, and returns how long that took.
func (r *faultRig) recovered() time.Duration {
	r.t.Helper()
	t1 := time.Now()
	var cr result.ClusterResult
	for i := 1; i <= 20; i++ {
		if cr, _ = r.poll(); cr.Up && r.wantLag(cr, "g", "t", r.gLag()) == nil {
			return time.Since(t1)
		}
	}
	r.t.Fatalf("not recovered: %v", r.wantLag(cr, "g", "t", r.gLag()))
	return 0
}

func (r *faultRig) poll() (result.ClusterResult, map[string]uint64) {
	r.t.Helper()
	before, _ := resulttest.Cluster(r.e.Latest(), "c")
	r.e.PollAll(r.ctx) // its only source, r.src
	cr, _ := resulttest.Cluster(r.e.Latest(), "c")
	reqs := map[string]uint64{}
	for api, n := range cr.Requests {
		if d := n - before.Requests[api]; d > 0 {
			reqs[api] = d
		}
	}
	r.checkNoNegative()
	return *cr, reqs
}

// pollUntilUp polls until a poll is complete (a short poll deadline on a
// loaded machine can cut the first, cold poll short) and returns it.
func (r *faultRig) pollUntilUp() result.ClusterResult {
	r.t.Helper()
	var cr result.ClusterResult
	for i := 0; i < 20; i++ {
		if cr, _ = r.poll(); cr.Up {
			return cr
		}
	}
	r.t.Fatalf("no complete poll in 20: %s", cr.LastError)
	return cr
}

// lags returns group's lag per topic and partition (only partitions with a
// known lag).
func lags(cr result.ClusterResult, group string) map[string]map[int32]int64 {
	g, ok := resulttest.Group(&cr, group)
	if !ok {
		return nil
	}
	out := map[string]map[int32]int64{}
	for _, gt := range g.Topics {
		for _, p := range gt.Partitions {
			if p.HasLag {
				if out[gt.Topic] == nil {
					out[gt.Topic] = map[int32]int64{}
				}
				out[gt.Topic][p.Partition] = p.Lag
			}
		}
	}
	return out
}

// wantLag checks group's lag on topic: every partition of want, nothing
// else.
func (r *faultRig) wantLag(cr result.ClusterResult, group, topic string, want map[int32]int64) error {
	got := lags(cr, group)[topic]
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("%s on %s: lag %v, want %v (up=%v err=%q)", group, topic, got, want, cr.Up, cr.LastError)
	}
	return nil
}

// gLag is the expected lag of "g" (committed at 5) on "t".
func (r *faultRig) gLag() map[int32]int64 {
	want := map[int32]int64{}
	for p, e := range r.end["t"] {
		want[int32(p)] = e - 5
	}
	return want
}

// checkNoNegative renders /metrics and fails on any negative or NaN
// sample: no family of ours may carry one.
func (r *faultRig) checkNoNegative() {
	r.t.Helper()
	for _, s := range r.samples() {
		if s.value < 0 || s.value != s.value {
			r.t.Errorf("negative or NaN sample in /metrics: %s %v", s.series, s.value)
		}
	}
}

type sample struct {
	series string
	value  float64
}

func (r *faultRig) samples() []sample {
	r.t.Helper()
	var buf bytes.Buffer
	if err := r.col.WriteText(&buf); err != nil {
		r.t.Fatal(err)
	}
	var out []sample
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			r.t.Fatalf("bad sample line %q: %v", line, err)
		}
		out = append(out, sample{line[:i], v})
	}
	return out
}

// seriesWith returns the /metrics series whose text contains every one of
// subs.
func (r *faultRig) seriesWith(subs ...string) []string {
	r.t.Helper()
	var out []string
	for _, s := range r.samples() {
		ok := true
		for _, sub := range subs {
			ok = ok && strings.Contains(s.series, sub)
		}
		if ok {
			out = append(out, s.series)
		}
	}
	return out
}

func otherNode(n int32) int32 { return (n + 1) % 3 }

// TestFaultLeaderMoves: leaders moved between polls (one partition, then
// all of them) and a NOT_LEADER_OR_FOLLOWER answer injected into the poll
// itself: every poll is complete and correct (the round reads fresh
// metadata, and retries the failed partitions once after refreshing it).
func TestFaultLeaderMoves(t *testing.T) {
	r := newFaultRig(t, exporter.Options{})
	cr, _ := r.poll()
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil || !cr.Up {
		t.Fatalf("baseline: %v", err)
	}

	// One partition moves, then every leader is re-elected.
	from := r.c.LeaderFor("t", 2)
	if err := r.c.MoveTopicPartition("t", 2, otherNode(from)); err != nil {
		t.Fatal(err)
	}
	r.produce("t", 2, 3)
	cr, _ = r.poll()
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil || !cr.Up {
		t.Fatalf("after moving t/2 from %d: %v", from, err)
	}
	r.c.ShufflePartitionLeaders()
	r.produce("t", 0, 2)
	cr, _ = r.poll()
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil || !cr.Up {
		t.Fatalf("after shuffling leaders: %v", err)
	}

	// The leader answers NOT_LEADER_OR_FOLLOWER once, inside the poll:
	// refresh metadata, retry that partition, correct in the same poll.
	h := r.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.ListOffsets}, Topic: "t", Partitions: []int32{1},
		Err: kerr.NotLeaderForPartition, Count: 1})
	r.produce("t", 1, 4)
	cr, reqs := r.poll()
	if h.Hits() != 1 {
		t.Fatalf("fault answered %d requests, want 1", h.Hits())
	}
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil || !cr.Up {
		t.Fatalf("after NOT_LEADER_OR_FOLLOWER: %v", err)
	}
	if reqs["Metadata"] != 2 {
		t.Errorf("requests %v: want 2 Metadata (the round's and the refresh)", reqs)
	}
	reliabilityRow(t, "leader moved (one partition; all re-elected) between polls; NOT_LEADER_OR_FOLLOWER injected on ListOffsets",
		"values correct on the same poll, up stays 1, no negative value",
		fmt.Sprintf("correct on the same poll; that poll's requests: %v (1 extra Metadata, the failed partition read again)", reqs))
}

// TestFaultCoordinatorMoves: coordinators rehashed between polls, and
// NOT_COORDINATOR injected on OffsetFetch and on DescribeGroups: the groups
// are listed again and retried once, correct in the same poll.
func TestFaultCoordinatorMoves(t *testing.T) {
	r := newFaultRig(t, exporter.Options{})
	r.commit("h", "t", map[int32]int64{0: 1})
	cr, _ := r.poll()
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil {
		t.Fatal(err)
	}
	hWant := map[int32]int64{0: r.end["t"][0] - 1}

	// Rehash until g's coordinator actually moves.
	before := r.c.CoordinatorFor("g")
	for i := 0; i < 20 && r.c.CoordinatorFor("g") == before; i++ {
		r.c.RehashCoordinators()
	}
	if after := r.c.CoordinatorFor("g"); after == before {
		t.Fatalf("coordinator of g stayed %d after 20 rehashes", before)
	}
	cr, _ = r.poll()
	if err := errors.Join(r.wantLag(cr, "g", "t", r.gLag()), r.wantLag(cr, "h", "t", hWant)); err != nil || !cr.Up {
		t.Fatalf("after the coordinator moved: %v", err)
	}

	for _, key := range []kmsg.Key{kmsg.OffsetFetch, kmsg.DescribeGroups} {
		h := r.c.Fault(kfake.Fault{Keys: []kmsg.Key{key}, Group: "g", Err: kerr.NotCoordinator, Count: 1})
		cr, reqs := r.poll()
		if h.Hits() != 1 {
			t.Fatalf("%s fault answered %d requests, want 1", key.Name(), h.Hits())
		}
		if err := errors.Join(r.wantLag(cr, "g", "t", r.gLag()), r.wantLag(cr, "h", "t", hWant)); err != nil || !cr.Up {
			t.Fatalf("after NOT_COORDINATOR on %s: %v", key.Name(), err)
		}
		// ListGroups goes to each of the 3 brokers, twice.
		if reqs["ListGroups"] != 6 {
			t.Errorf("NOT_COORDINATOR on %s: requests %v, want ListGroups 6 (listed again once)", key.Name(), reqs)
		}
		if g, _ := resulttest.Group(&cr, "g"); g.State != "Empty" {
			t.Errorf("g state %q after NOT_COORDINATOR on %s", g.State, key.Name())
		}
		reliabilityRow(t, "NOT_COORDINATOR injected on "+key.Name()+" (and coordinators rehashed between polls)",
			"values correct on the same poll, up stays 1",
			fmt.Sprintf("correct on the same poll; groups listed again once (%d ListGroups, %d %s)", reqs["ListGroups"], reqs[key.Name()], key.Name()))
	}
}

// slowBroker makes every request of key sleep d (on the cluster's sleep
// machinery, so the other connections keep going) while on is set.
func slowBroker(c *kfaketest.Cluster, key kmsg.Key, d time.Duration, on *atomic.Bool, slept *atomic.Int32) {
	c.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if on.Load() {
			slept.Add(1)
			c.SleepControl(func() { time.Sleep(d) })
		}
		return nil, nil, false
	})
}

// TestFaultSlowBroker: a broker slower than the poll interval. The poll
// returns at its deadline, up goes to 0, the last good values stay served
// with the time of the last successful poll (their age) exported, and
// polls never overlap.
func TestFaultSlowBroker(t *testing.T) {
	const interval = 300 * time.Millisecond
	r := newFaultRig(t, exporter.Options{Config: exporter.PollEvery(interval, interval)})
	var slow atomic.Bool
	var slept atomic.Int32
	slowBroker(r.c, kmsg.Metadata, 2*time.Second, &slow, &slept)
	slowBroker(r.c, kmsg.ListOffsets, 2*time.Second, &slow, &slept)

	cr, _ := r.poll()
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil || !cr.Up {
		t.Fatalf("baseline: %v", err)
	}
	good := cr.LastSuccess
	goodLag := lags(cr, "g")

	// Slow Metadata: nothing is learned; the previous values stay.
	slow.Store(true)
	t0 := time.Now()
	cr, _ = r.poll()
	took := time.Since(t0)
	if took > interval+time.Second {
		t.Errorf("a poll of a slow broker took %s, deadline %s", took, interval)
	}
	if cr.Up || !cr.LastSuccess.Equal(good) {
		t.Errorf("slow poll: up=%v last success %s, want down and %s", cr.Up, cr.LastSuccess, good)
	}
	if got := lags(cr, "g"); fmt.Sprint(got) != fmt.Sprint(goodLag) {
		t.Errorf("slow poll: lag %v, want the last good %v", got, goodLag)
	}
	ts := r.seriesWith("offsetlag_last_successful_poll_timestamp_seconds")
	if len(ts) != 1 {
		t.Fatalf("last successful poll series: %v", ts)
	}
	if s := r.seriesWith("offsetlag_consumergroup_lag{", `group="g"`); len(s) != 4 {
		t.Errorf("lag series of g while the broker is slow: %v, want the 4 last good ones", s)
	}
	var age float64
	for _, s := range r.samples() {
		if strings.HasPrefix(s.series, "offsetlag_last_successful_poll_timestamp_seconds") {
			age = float64(time.Now().UnixNano())/1e9 - s.value
		}
	}

	// Keep it slow and let Run poll: no two Snapshot calls at once.
	runCtx, stop := context.WithCancel(r.ctx)
	done := make(chan struct{})
	calls := r.src.calls.Load()
	go func() { r.e.Run(runCtx); close(done) }()
	time.Sleep(6 * interval)
	stop()
	select {
	case <-done:
	case <-time.After(interval + time.Second):
		t.Fatal("Run did not return within the poll deadline after cancel")
	}
	polls := r.src.calls.Load() - calls
	if m := r.src.at.Peak(); m != 1 {
		t.Errorf("%d Snapshot calls ran at once, want 1", m)
	}
	if polls < 3 {
		t.Errorf("only %d polls in %s of slow broker: polls wait for each other too long", polls, 6*interval)
	}

	// Back to normal: correct on the next poll.
	slow.Store(false)
	r.produce("t", 3, 5)
	recovered := r.recovered()
	reliabilityRow(t, "broker slower than the poll interval (Metadata and ListOffsets sleep 2 s, interval and timeout 300 ms)",
		"poll returns at its deadline, up 0, last good values served with their age, polls never overlap",
		fmt.Sprintf("poll returned in %s; up 0; the 4 last good lag series kept; last successful poll %.1fs old; %d polls in %s, at most %d at once; correct %s after the broker recovered (once the abandoned 2 s requests finished)",
			took.Round(10*time.Millisecond), age, polls, 6*interval, r.src.at.Peak(), recovered.Round(100*time.Millisecond)))
}

// TestFaultSlowListOffsets: only ListOffsets is slow (Metadata and the
// group requests answer). The poll returns at its deadline and is partial
// (up 0). As documented (README, Semantics), the log ends it could not read
// are carried from the last good read, with their age exported, for at most
// poll.stale-after (3 intervals by default). Beyond that the lag series and the group sums are
// absent, never a false 0. Correct on the next poll after recovery.
func TestFaultSlowListOffsets(t *testing.T) {
	const interval = 300 * time.Millisecond
	const staleAfter = exporter.DefaultStaleAfterPolls * interval
	r := newFaultRig(t, exporter.Options{Config: exporter.PollEvery(interval, interval)})
	var slow atomic.Bool
	var slept atomic.Int32
	slowBroker(r.c, kmsg.ListOffsets, 2*time.Second, &slow, &slept)
	cr := r.pollUntilUp()
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil {
		t.Fatal(err)
	}
	goodRead := cr.OldestRead
	slow.Store(true)
	// The last good values (the OffsetFetch to the slow broker's
	// connection may time out too: then the commits are carried as well).
	carriedWant := r.gLag()
	var took time.Duration
	carriedPolls, droppedPolls := 0, 0
	var maxAge float64
	for i := 0; i < 12 && droppedPolls == 0; i++ {
		t0 := time.Now()
		cr, _ = r.poll()
		took = max(took, time.Since(t0))
		if cr.Up {
			t.Fatal("up with every ListOffsets timed out")
		}
		age := cr.LastPoll.Sub(goodRead)
		ageSeries := r.seriesWith("offsetlag_cluster_data_age_seconds")
		if age <= staleAfter {
			carriedPolls++
			if err := r.wantLag(cr, "g", "t", carriedWant); err != nil {
				t.Fatalf("poll %d, ends %s old (stale after %s): %v", i, age, staleAfter, err)
			}
			if !cr.OldestRead.Equal(goodRead) || len(ageSeries) != 1 {
				t.Fatalf("poll %d: oldest read %s, want %s; age series %v", i, cr.OldestRead, goodRead, ageSeries)
			}
			for _, smp := range r.samples() {
				if strings.HasPrefix(smp.series, "offsetlag_cluster_data_age_seconds") {
					if smp.value != age.Seconds() {
						t.Fatalf("poll %d: data age %v, want %v", i, smp.value, age.Seconds())
					}
					maxAge = max(maxAge, smp.value)
				}
			}
			continue
		}
		droppedPolls++
		if got := lags(cr, "g"); len(got) != 0 {
			t.Errorf("lag %v from ends %s old, beyond stale-after %s", got, age, staleAfter)
		}
		for _, f := range []string{"offsetlag_consumergroup_lag{", "offsetlag_consumergroup_sum_lag{", "offsetlag_consumergroup_topic_sum_lag{"} {
			if s := r.seriesWith(f, `group="g"`); len(s) != 0 {
				t.Errorf("%s series from ends %s old, beyond stale-after %s: %v", f, age, staleAfter, s)
			}
		}
	}
	if took > interval+time.Second {
		t.Errorf("poll took %s, deadline %s", took, interval)
	}
	if carriedPolls == 0 || droppedPolls == 0 {
		t.Fatalf("%d polls carried the ends, %d dropped them: want both", carriedPolls, droppedPolls)
	}
	slow.Store(false)
	r.produce("t", 1, 2)
	recovered := r.recovered()
	reliabilityRow(t, "ListOffsets slower than the poll deadline (Metadata and group requests answer)",
		"poll returns at its deadline, up 0; unread log ends carried from the last good read with their age for at most poll.stale-after (3 intervals), then absent (never a false 0 or negative); correct after",
		fmt.Sprintf("polls returned within %s; up 0; last good lag carried on %d poll(s) (data age up to %.2f s), absent on the first poll past %s; correct %s after recovery (once the abandoned 2 s requests finished)",
			took.Round(10*time.Millisecond), carriedPolls, maxAge, staleAfter, recovered.Round(100*time.Millisecond)))
}

// TestFaultOutage: every broker drops every connection for a while (as a
// dead broker would), under Run. up is 0 during the outage, the last
// values stay, the exporter is correct within 2 polls after, and Run
// leaves no goroutine behind once stopped and the client closed.
func TestFaultOutage(t *testing.T) {
	before := goleak.IgnoreCurrent()
	const interval = 200 * time.Millisecond
	var results []result.ClusterResult
	var mu sync.Mutex
	r := newFaultRig(t, exporter.Options{Config: exporter.PollEvery(interval, interval), OnResult: func(res *result.Result) {
		cr, _ := resulttest.Cluster(res, "c")
		mu.Lock()
		results = append(results, *cr)
		mu.Unlock()
	}})
	var down atomic.Bool
	r.c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		r.c.KeepControl()
		if down.Load() {
			return nil, errors.New("broker down"), true // closes the connection
		}
		return nil, nil, false
	})
	last := func() result.ClusterResult {
		mu.Lock()
		defer mu.Unlock()
		if len(results) == 0 {
			return result.ClusterResult{}
		}
		return results[len(results)-1]
	}
	nresults := func() int { mu.Lock(); defer mu.Unlock(); return len(results) }
	waitFor := func(what string, ok func(result.ClusterResult) bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if ok(last()) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: last result up=%v err=%q", what, last().Up, last().LastError)
	}

	runCtx, stop := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { r.e.Run(runCtx); close(done) }()
	waitFor("first poll", func(cr result.ClusterResult) bool { return cr.Up })

	down.Store(true)
	waitFor("outage seen", func(cr result.ClusterResult) bool { return !cr.Up })
	time.Sleep(5 * interval)
	cr := last()
	if cr.Up || r.wantLag(cr, "g", "t", r.gLag()) != nil {
		t.Errorf("during the outage: up=%v %v", cr.Up, r.wantLag(cr, "g", "t", r.gLag()))
	}
	downErr := cr.LastError
	r.checkNoNegative()

	down.Store(false)
	back := nresults()
	r.produce("t", 0, 7)
	waitFor("recovered", func(cr result.ClusterResult) bool {
		return cr.Up && r.wantLag(cr, "g", "t", r.gLag()) == nil
	})
	pollsToRecover := nresults() - back
	stop()
	<-done
	// Everything this test started, stopped: no goroutine may be left
	// (sarama's process-wide metrics ticker aside).
	_ = r.ac.Close()
	r.c.Client.Close()
	r.c.Close()
	goleak.VerifyNone(t, before, goleak.IgnoreTopFunction("github.com/rcrowley/go-metrics.(*meterArbiter).tick"))
	if pollsToRecover > 2 {
		t.Errorf("correct only %d polls after the brokers came back, want at most 2", pollsToRecover)
	}
	reliabilityRow(t, "every broker drops its connections (outage) under Run, then comes back; goleak after stop",
		"up 0 during the outage, last values kept, correct within 2 polls after, no goroutine leak",
		fmt.Sprintf("up 0 (%q); last values kept; correct %d poll(s) after; goleak clean", tail(downErr, 90), pollsToRecover))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// TestLifecycleTopicRecreated: a topic deleted and created again. Its
// series vanish while it is gone (no ghost series) and come back; a commit
// beyond the new log end gives lag 0, never a negative value; no expiry is
// reported for the deleted topic's commits.
func TestLifecycleTopicRecreated(t *testing.T) {
	r := newFaultRig(t, exporter.Options{})
	r.c.CreateTopic("tmp", 2, nil)
	r.produce("tmp", 0, 20)
	r.produce("tmp", 1, 20)
	r.commit("gtmp", "tmp", map[int32]int64{0: 15, 1: 20})
	cr, _ := r.poll()
	if err := r.wantLag(cr, "gtmp", "tmp", map[int32]int64{0: 5, 1: 0}); err != nil {
		t.Fatal(err)
	}
	before := len(r.seriesWith(`topic="tmp"`))
	if before == 0 {
		t.Fatal("no series of tmp")
	}

	if err := r.c.DeleteTopic("tmp"); err != nil {
		t.Fatal(err)
	}
	cr, _ = r.poll()
	gone := len(r.seriesWith(`topic="tmp"`))
	if gone != 0 {
		t.Errorf("series of the deleted topic still exported: %v", r.seriesWith(`topic="tmp"`))
	}
	if !cr.Up {
		t.Errorf("down after a topic deletion: %s", cr.LastError)
	}
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil {
		t.Error(err)
	}

	// Recreated smaller; the group commits beyond the new end (a consumer
	// that remembers its old position).
	if err := r.c.CreateTopic("tmp", 2, nil); err != nil {
		t.Fatal(err)
	}
	r.end["tmp"] = nil
	r.c.Reconnect(t)
	r.produce("tmp", 0, 3)
	r.commit("gtmp", "tmp", map[int32]int64{0: 15, 1: 20})
	cr, _ = r.poll()
	if err := r.wantLag(cr, "gtmp", "tmp", map[int32]int64{0: 0, 1: 0}); err != nil {
		t.Error(err)
	}
	ends := r.seriesWith("offsetlag_partition_end_offset", `topic="tmp"`)
	if len(ends) != 2 {
		t.Errorf("end offset series of the recreated topic: %v", ends)
	}
	expired := 0
	for _, g := range cr.Expiry {
		for _, te := range g.Topics {
			if te.Expired {
				expired++
				t.Errorf("expired reported after a topic deletion: %s %s", g.Group, te.Topic)
			}
		}
	}
	reliabilityRow(t, "topic deleted, then recreated smaller while a group keeps a commit beyond its new end",
		"series vanish while it is gone and come back; lag clamped at 0; no false expiry",
		fmt.Sprintf("series of the topic %d before, %d after the delete, %d end offset series after the create; lag %v for commits beyond the new end; %d expiry reported",
			before, gone, len(ends), lags(cr, "gtmp")["tmp"], expired))
}

// TestLifecyclePartitionsAdded: partitions added to a topic appear on the
// next poll (log end series, and lag once committed).
func TestLifecyclePartitionsAdded(t *testing.T) {
	r := newFaultRig(t, exporter.Options{})
	r.poll()
	if _, err := r.c.Admin.CreatePartitions(r.ctx, 2, "t"); err != nil {
		t.Fatal(err)
	}
	r.c.Reconnect(t)
	r.produce("t", 4, 8)
	r.produce("t", 5, 9)
	r.commit("g", "t", map[int32]int64{4: 5})
	cr, _ := r.poll()
	want := r.gLag()
	delete(want, 5) // no commit on partition 5
	if err := r.wantLag(cr, "g", "t", want); err != nil {
		t.Error(err)
	}
	ends := r.seriesWith("offsetlag_partition_end_offset", `topic="t"`)
	if len(ends) != 6 {
		t.Errorf("end offset series after adding 2 partitions: %d, want 6", len(ends))
	}
	g, _ := resulttest.Group(&cr, "g")
	if g.PartitionsWithoutCommit != 1 {
		t.Errorf("partitions without commit %d, want 1", g.PartitionsWithoutCommit)
	}
	reliabilityRow(t, "partitions added to a topic", "new partitions' series appear on the next poll",
		fmt.Sprintf("%d end offset series on the next poll; lag %d on the committed new partition 4; %d uncommitted counted in partitions_without_commit",
			len(ends), lags(cr, "g")["t"][4], g.PartitionsWithoutCommit))
}

// TestLifecycleGroupDeleted: a group deleted with DeleteGroups is not
// reported as expired (it vanished before any predicted expiry: deleted on
// purpose), and leaves no series behind.
func TestLifecycleGroupDeleted(t *testing.T) {
	r := newFaultRig(t, exporter.Options{})
	r.commit("gone", "t", map[int32]int64{0: 1, 1: 1})
	r.poll()
	if s := r.seriesWith(`group="gone"`); len(s) == 0 {
		t.Fatal("no series of the group before its deletion")
	}
	resp, err := r.c.Admin.DeleteGroups(r.ctx, "gone")
	if err != nil || resp.Error() != nil {
		t.Fatalf("delete group: %v %v", err, resp.Error())
	}
	// The first poll without the group decides nothing (carried); the
	// second agrees: deleted.
	cr, _ := r.poll()
	first := len(r.seriesWith(`group="gone"`))
	cr, _ = r.poll()
	ghost := r.seriesWith(`group="gone"`)
	if len(ghost) != 0 {
		t.Errorf("ghost series of the deleted group: %v", ghost)
	}
	tracked, expired := 0, 0
	for _, g := range cr.Expiry {
		if g.Group == "gone" {
			tracked++
			t.Errorf("deleted group tracked for expiry: %+v", g)
			for _, te := range g.Topics {
				if te.Expired {
					expired++
				}
			}
		}
	}
	if _, ok := resulttest.Group(&cr, "gone"); ok {
		t.Error("deleted group still in the result")
	}
	reliabilityRow(t, "group deleted with DeleteGroups (well before its predicted expiry)",
		"not reported expired (deleted on purpose); no ghost series once two polls agree",
		fmt.Sprintf("%d series kept on the first poll without the group, %d on the second; %d expiry entries, %d expired", first, len(ghost), tracked, expired))
}

// TestFaultOldBroker: brokers that speak too old a protocol, or that do not
// offer OffsetFetch at all: a clear error (up 0, LastError naming the
// problem), no panic, and what can be read is still read.
func TestFaultOldBroker(t *testing.T) {
	for _, v := range []struct {
		name string
		vs   *kversion.Versions
	}{{"0.8.0", kversion.V0_8_0()}, {"0.10.0", kversion.V0_10_0()}, {"2.0.0", kversion.V2_0_0()}} {
		t.Run("kafka-"+v.name, func(t *testing.T) {
			c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(1, "t"), kfake.MaxVersions(v.vs))
			e, err := exporter.New([]exporter.Source{c.Source(t, "c")}, exporter.Options{Config: exporter.PollEvery(2*time.Second, 0)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cr, _ := resulttest.Cluster(e.PollAll(ctx), "c")
			observed := "up 1: read with the versions the broker advertises"
			if !cr.Up {
				if cr.LastError == "" {
					t.Fatal("down without an error")
				}
				observed = fmt.Sprintf("up 0: %q", tail(cr.LastError, 110))
			}
			t.Logf("Kafka %s: up=%v err=%q", v.name, cr.Up, cr.LastError)
			reliabilityRow(t, "old broker (kfake MaxVersions "+v.name+")", "either read correctly or a clear error (up 0); no panic", observed)
		})
	}
	t.Run("no-offsetfetch", func(t *testing.T) {
		r := newFaultRig(t, exporter.Options{})
		r.c.ControlKey(int16(kmsg.ApiVersions), func(req kmsg.Request) (kmsg.Response, error, bool) {
			r.c.KeepControl()
			resp := req.(*kmsg.ApiVersionsRequest).ResponseKind().(*kmsg.ApiVersionsResponse)
			resp.SetVersion(req.GetVersion())
			vs := kversion.V4_0_0()
			vs.EachMaxKeyVersion(func(k, v int16) {
				if k == int16(kmsg.OffsetFetch) {
					return
				}
				ak := kmsg.NewApiVersionsResponseApiKey()
				ak.ApiKey, ak.MinVersion, ak.MaxVersion = k, 0, v
				resp.ApiKeys = append(resp.ApiKeys, ak)
			})
			return resp, nil, true
		})
		cr, _ := r.poll()
		if cr.Up || !strings.Contains(cr.LastError, "OffsetFetch") {
			t.Fatalf("up=%v err=%q, want a failure naming OffsetFetch", cr.Up, cr.LastError)
		}
		if s := r.seriesWith("offsetlag_partition_end_offset", `topic="t"`); len(s) != 4 {
			t.Errorf("end offsets not read while OffsetFetch is unsupported: %v", s)
		}
		reliabilityRow(t, "broker advertises no OffsetFetch in ApiVersions", "a clear error, up 0, no panic; log ends still read",
			fmt.Sprintf("up 0: %q; end offsets still exported", tail(cr.LastError, 100)))
	})
}
