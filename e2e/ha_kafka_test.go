package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
	"github.com/offsetlag/offsetlag/internal/testing/promtest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// HA replicas (--ha.enabled) on a real 3-node cluster: three replica
// binaries and one reference instance (no HA) watch the same topic and 24
// Empty groups. The union of the replicas' group and topic series must
// equal the reference's with no series exported twice; then the replica
// exporting the most groups is killed with SIGKILL, and its groups must come
// back on the survivors within 2 polls of their restore (measured from the
// kill: session timeout + restore + poll, written to README's reliability
// table) with the same expires_at (within one poll interval).

const (
	haShards  = 16
	haPoll    = time.Second
	haSession = 6 * time.Second // the brokers' group.min.session.timeout.ms
	haParts   = 6
	haGroups  = 24
)

// haScene is the cluster, the reference and the replicas.
type haScene struct {
	t      *testing.T
	c      *kafkatest.Cluster
	topic  string
	groups []string
	ref    *exporterProc
	args   []string
	reps   []*exporterProc
}

func newHAScene(t *testing.T) *haScene {
	c := kafkatest.StartCluster(t, kafkatest.ClusterOptions{})
	s := &haScene{t: t, c: c, topic: uniq("ha")}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, haParts, 3, nil, s.topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	if err := c.WaitISR(ctx); err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < haParts; p++ {
		for i := 0; i < 20; i++ {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: s.topic, Partition: p, Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
		}
	}
	prefix := uniq("hag")
	for i := 0; i < haGroups; i++ {
		g := fmt.Sprintf("%s%02d", prefix, i)
		os := kadm.Offsets{}
		for p := int32(0); p < haParts; p++ {
			os.Add(kadm.Offset{Topic: s.topic, Partition: p, At: int64(i%10 + 1), LeaderEpoch: -1})
		}
		if err := adm.CommitAllOffsets(ctx, g, os); err != nil {
			t.Fatalf("commit %s: %v", g, err)
		}
		s.groups = append(s.groups, g)
	}
	s.ref = startExporterOn(t, c.BrokerList(), "--poll.interval", haPoll.String())
	s.args = []string{"--poll.interval", haPoll.String(), "--ha.enabled", "--ha.topic", uniq("ha-state"),
		"--ha.group", uniq("ha-replicas"), "--ha.partitions", fmt.Sprint(haShards), "--ha.session-timeout", haSession.String()}
	for range 3 {
		s.add()
	}
	return s
}

func (s *haScene) add() *exporterProc {
	p := startExporterOn(s.t, s.c.BrokerList(), s.args...)
	s.reps = append(s.reps, p)
	return p
}

// seriesKeys are the scene's group and topic series of a scrape: family and
// labels, without values (the reference and the replicas poll at other
// moments).
func (s *haScene) seriesKeys(ms metricSet) map[string]string {
	ours := map[string]bool{}
	for _, g := range s.groups {
		ours[g] = true
	}
	out := map[string]string{} // key -> group ("" for topic series)
	for name, f := range ms {
		if !strings.HasPrefix(name, "offsetlag_") {
			continue
		}
		for _, m := range f.GetMetric() {
			g, tp := labelOf(m, "group"), labelOf(m, "topic")
			if !ours[g] && (g != "" || tp != s.topic) {
				continue
			}
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			out[name+"{"+strings.Join(ls, ",")+"}"] = g
		}
	}
	return out
}

// round scrapes the replicas (nil entries skipped) and reports the owner of
// every series, the duplicates, and the shards owned in total.
type haRound struct {
	owner  map[string]int // series key -> replica index
	groups map[string]int // group -> replica index
	dups   []string
	owned  float64
	idle   int       // live replicas that own no shard
	polls  []float64 // last successful poll per replica
	rebal  []float64
	restor []float64
	expire map[string]float64 // group -> expires_at (unix seconds)
	errs   []string
}

func (s *haScene) round(live []*exporterProc) haRound {
	r := haRound{owner: map[string]int{}, groups: map[string]int{}, expire: map[string]float64{},
		polls: make([]float64, len(live)), rebal: make([]float64, len(live)), restor: make([]float64, len(live))}
	// Scrape the replicas at the same moment, as one Prometheus round.
	sets := make([]metricSet, len(live))
	errs := make([]error, len(live))
	var wg sync.WaitGroup
	for i, p := range live {
		if p == nil {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); sets[i], errs[i] = p.scrape() }()
	}
	wg.Wait()
	for i, p := range live {
		if p == nil {
			continue
		}
		ms, err := sets[i], errs[i]
		if err != nil {
			r.errs = append(r.errs, err.Error())
			continue
		}
		owned := ms.value("offsetlag_ha_shards_owned", nil)
		r.owned += owned
		if owned == 0 {
			r.idle++
		}
		r.polls[i] = ms.value("offsetlag_last_successful_poll_timestamp_seconds", nil)
		r.rebal[i] = ms.value("offsetlag_ha_rebalances_total", nil)
		r.restor[i] = ms.value("offsetlag_ha_state_restores_total", nil)
		for k, g := range s.seriesKeys(ms) {
			if o, ok := r.owner[k]; ok && o != i {
				r.dups = append(r.dups, fmt.Sprintf("%s by %d and %d", k, o, i))
			}
			r.owner[k] = i
			if g != "" {
				r.groups[g] = i
			}
		}
		for _, m := range ms.series("offsetlag_consumergroup_offsets_expire_timestamp_seconds", nil) {
			r.expire[labelOf(m, "group")] = sampleValue(m)
		}
	}
	return r
}

// covered reports whether the round equals the reference: every series of
// the reference exactly once, nothing else, every shard owned.
func (s *haScene) covered(r haRound, ref map[string]string) (bool, string) {
	var missing, extra []string
	for k := range ref {
		if _, ok := r.owner[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range r.owner {
		if _, ok := ref[k]; !ok {
			extra = append(extra, k)
		}
	}
	ok := len(missing) == 0 && len(extra) == 0 && len(r.dups) == 0 && r.owned == haShards && r.idle == 0 && len(r.errs) == 0
	return ok, fmt.Sprintf("%d missing (%v), %d extra (%v), duplicates %v, shards owned %v of %d, %d replicas without a shard, errors %v",
		len(missing), first(missing, 3), len(extra), first(extra, 3), first(r.dups, 3), r.owned, haShards, r.idle, r.errs)
}

func first(s []string, n int) []string {
	sort.Strings(s)
	return s[:min(n, len(s))]
}

// reference waits for the reference to export every group, and returns its
// series keys.
func (s *haScene) reference() map[string]string {
	deadline := time.Now().Add(60 * time.Second)
	// The series set grows for a few polls after the groups appear (rates
	// need two observations): take it once it stayed the same for 3 polls.
	var prev map[string]string
	same := 0
	for {
		ms, err := s.ref.scrape()
		if err == nil {
			keys := s.seriesKeys(ms)
			seen := map[string]bool{}
			for _, g := range keys {
				seen[g] = true
			}
			if len(seen) == haGroups+1 { // the groups and "" (topic series)
				if prev != nil && maps.Equal(prev, keys) {
					same++
				} else {
					same = 0
				}
				prev = keys
				if same >= 3 {
					return keys
				}
				time.Sleep(haPoll)
				continue
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the reference does not export the %d groups with a settled series set: %v", haGroups, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitCovered waits until the replicas equal the reference, then checks 3
// more rounds (3 polls) stay so.
func (s *haScene) waitCovered(what string, live []*exporterProc, ref map[string]string) {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ok, msg := s.covered(s.round(live), ref)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: replicas never equal the reference: %s", what, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		time.Sleep(haPoll)
		if ok, msg := s.covered(s.round(live), ref); !ok {
			s.t.Fatalf("%s: covered, then not: %s", what, msg)
		}
	}
}

// TestReliabilityHAReplicasKill: coverage equal to the reference with no duplicate;
// kill -9 of one replica: its groups back on the survivors within 2 polls
// of their restore, expires_at unchanged.
func TestReliabilityHAReplicasKill(t *testing.T) {
	start := time.Now()
	s := newHAScene(t)
	ref := s.reference()
	s.waitCovered("3 replicas", s.reps, ref)
	// A real Prometheus scrapes the three replicas and evaluates the
	// shipped rules: the coverage rule and the dashboard's HA panel.
	var targets []string
	for _, p := range s.reps {
		targets = append(targets, strings.TrimPrefix(p.url, "http://"))
	}
	ps := promtest.StartTargets(t, targets, promtest.RenderRules(t, "../deploy/alerts", t.TempDir()))
	uncovered := func() (float64, bool) {
		res := ps.Query(t, "offsetlag:ha_shards_uncovered")
		if len(res) != 1 {
			return 0, false
		}
		v, err := strconv.ParseFloat(res[0].Value(), 64)
		return v, err == nil
	}
	waitProm(t, "offsetlag:ha_shards_uncovered = 0 with 3 replicas", func() bool { v, ok := uncovered(); return ok && v == 0 })
	checkHAPanels(t, ps)
	r := s.round(s.reps)
	count := map[int]int{}
	for _, o := range r.groups {
		count[o]++
	}
	victim := 0
	for i := range s.reps {
		if count[i] > count[victim] {
			victim = i
		}
	}
	var moving []string
	for g, o := range r.groups {
		if o == victim {
			moving = append(moving, g)
		}
	}
	sort.Strings(moving)
	before := map[string]float64{}
	for _, g := range moving {
		if v, ok := r.expire[g]; ok {
			before[g] = v
		}
	}
	if len(moving) == 0 || len(before) == 0 {
		t.Fatalf("victim %d exports %d groups, %d with an expiry prediction", victim, len(moving), len(before))
	}
	survivors := slices.Clone(s.reps)
	survivors[victim] = nil

	killedAt := time.Now()
	if err := s.reps[victim].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.reps[victim].done

	// Watch the survivors: when each restored a shard (restores_total
	// grew), which polls followed, and when each moving group came back.
	restored := make([]float64, len(s.reps)) // restores_total before the kill
	copy(restored, r.restor)
	restoreSeen := map[int]bool{}
	pollsAfter := map[int]map[float64]bool{} // polls completed after the restore was seen
	back := map[string]time.Duration{}
	after := map[string]float64{}
	pollsUntil := 0
	var holeSeen float64 // the most uncovered shards Prometheus saw
	deadline := time.Now().Add(3 * time.Minute)
	for len(back) < len(moving) {
		if v, ok := uncovered(); ok {
			holeSeen = max(holeSeen, v)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after kill -9 of replica %d: %d of its %d groups back: %v", victim, len(back), len(moving), back)
		}
		rr := s.round(survivors)
		if len(rr.dups) > 0 {
			t.Fatalf("after the kill: series exported twice: %v", first(rr.dups, 3))
		}
		for i, p := range survivors {
			if p == nil {
				continue
			}
			if rr.restor[i] > restored[i] && !restoreSeen[i] {
				restoreSeen[i] = true
				pollsAfter[i] = map[float64]bool{}
			}
			if restoreSeen[i] {
				pollsAfter[i][rr.polls[i]] = true
			}
		}
		for _, g := range moving {
			o, ok := rr.groups[g]
			if _, done := back[g]; !ok || done {
				continue
			}
			back[g] = time.Since(killedAt)
			after[g] = rr.expire[g]
			if !restoreSeen[o] {
				t.Errorf("group %s exported by replica %d before it restored a shard", g, o)
			}
			// The poll that was last when the restore was seen may be
			// before it: at most 2 further polls (+1 under way).
			pollsUntil = max(pollsUntil, len(pollsAfter[o])-1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Prometheus saw the hole (the killed replica's series went stale
	// before the survivors took its shards) and sees it closed.
	waitProm(t, "offsetlag:ha_shards_uncovered = 0 after the takeover", func() bool {
		v, ok := uncovered()
		holeSeen = max(holeSeen, v)
		return ok && v == 0
	})
	if holeSeen == 0 {
		// The rule is evaluated every second and the hole lasted
		// seconds: not seeing it means the rule cannot see one.
		t.Errorf("offsetlag:ha_shards_uncovered never rose above 0 while the killed replica's shards were unowned")
	}
	var worst time.Duration
	for _, d := range back {
		worst = max(worst, d)
	}
	if pollsUntil > 3 {
		t.Errorf("groups back %d polls after their new owner restored the shard, want at most 2 (+1 under way)", pollsUntil)
	}
	maxShift := 0.0
	for g, v := range before {
		shift := math.Abs(after[g] - v)
		maxShift = max(maxShift, shift)
		if shift > haPoll.Seconds() {
			t.Errorf("group %s: expires_at %v after the takeover, %v before (%.1fs apart, want at most one poll interval)", g, after[g], v, shift)
		}
	}
	s.waitCovered("2 replicas after the kill", survivors, ref)
	if t.Failed() {
		return
	}
	t.Logf("RELIABILITY | HA replicas on a real 3-node Kafka %s cluster: 3 replica binaries (--ha.session-timeout %s, poll %s, %d shards) and a reference instance, %d groups; kill -9 of the replica exporting the most groups | union of the replicas' series equals the reference, 0 duplicates; its groups back within session timeout + 2 polls, expires_at unchanged within one poll | equal to the reference (0 missing, 0 duplicate of %d series) before and after; %d groups back %.1fs after the kill (at most %d polls after the survivors' restore), expires_at moved by at most %.3fs; never a series twice; a real Prometheus scraping the replicas saw offsetlag:ha_shards_uncovered rise to %v and return to 0, the dashboard's HA panel %d of %d; test %.0fs |",
		s.c.Version, haSession, haPoll, haShards, haGroups, len(ref), len(moving), worst.Seconds(), pollsUntil, maxShift, holeSeen, haShards, haShards, time.Since(start).Seconds())
}

// TestReliabilityHAReplicasScale: 3 replicas, 2 more join, then those 2
// stop with SIGTERM (leave the group): throughout, a watcher scrapes every
// live replica at once every 200 ms; no series is ever exported twice in a
// round, and a group missing from a round is back within 2 polls of the
// replica that takes it over.
func TestReliabilityHAReplicasScale(t *testing.T) {
	start := time.Now()
	s := newHAScene(t)
	ref := s.reference()
	s.waitCovered("3 replicas", s.reps, ref)

	var mu sync.Mutex
	live := slices.Clone(s.reps)
	current := func() []*exporterProc { mu.Lock(); defer mu.Unlock(); return slices.Clone(live) }
	stop := make(chan struct{})
	done := make(chan struct{})
	var rounds, maxMissingPolls, missingEvents int
	var dups []string
	go func() {
		defer close(done)
		missing := map[string]map[*exporterProc]map[float64]bool{} // group -> polls seen per replica while missing
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			ps := current()
			r := s.round(ps)
			if len(r.errs) > 0 {
				continue // a replica being stopped: not a round
			}
			rounds++
			dups = append(dups, r.dups...)
			for _, g := range s.groups {
				o, ok := r.groups[g]
				if !ok {
					m := missing[g]
					if m == nil {
						m = map[*exporterProc]map[float64]bool{}
						missing[g] = m
						missingEvents++
					}
					for i, p := range ps {
						if m[p] == nil {
							m[p] = map[float64]bool{}
						}
						m[p][r.polls[i]] = true
					}
					continue
				}
				if m := missing[g]; m != nil {
					// Polls of the new owner while the group was missing,
					// the first possibly before the handover.
					maxMissingPolls = max(maxMissingPolls, len(m[ps[o]])-1)
					delete(missing, g)
				}
			}
		}
	}()

	added := []*exporterProc{s.add(), s.add()}
	mu.Lock()
	live = append(live, added...)
	mu.Unlock()
	s.waitCovered("5 replicas", current(), ref)
	s.checkReplicasAPI(current(), 5)

	for _, p := range added {
		mu.Lock()
		live = slices.DeleteFunc(live, func(x *exporterProc) bool { return x == p })
		mu.Unlock()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		<-p.done
		if !strings.Contains(p.logs.String(), "left the replicas' group") {
			t.Errorf("a replica stopped with SIGTERM did not log leaving the group:\n%s", testenv.TailLines(p.logs.String(), 20))
		}
	}
	s.waitCovered("3 replicas again", current(), ref)
	close(stop)
	<-done
	if len(dups) > 0 {
		t.Errorf("%d series exported twice in one scrape round, e.g. %v", len(dups), first(dups, 3))
	}
	if maxMissingPolls > 3 {
		t.Errorf("a group was missing for %d polls of its new owner, want at most 2 (+1 under way)", maxMissingPolls)
	}
	if t.Failed() {
		return
	}
	t.Logf("RELIABILITY | HA replicas on a real 3-node Kafka %s cluster scaled 3 -> 5 -> 3 (2 replica binaries join, then stop with SIGTERM), %d groups, %d shards, poll %s | no series exported twice in one scrape round; no group missing for more than 2 polls | %d scrape rounds of every live replica at once, 0 duplicates; %d group absences during the moves, each back within %d polls of its new owner; union equal to the reference at 3, 5 and 3 replicas; test %.0fs |",
		s.c.Version, haGroups, haShards, haPoll, rounds, missingEvents, maxMissingPolls, time.Since(start).Seconds())
}

// checkReplicasAPI reads /api/v1/replicas and the status page of each live
// replica: n members whose shards partition 0..P-1, this replica among them
// with the shards it reports, and the page naming it as the owner.
func (s *haScene) checkReplicasAPI(live []*exporterProc, n int) {
	s.t.Helper()
	for _, p := range live {
		var v struct {
			Shards   int     `json:"shards"`
			MemberID string  `json:"member_id"`
			Owned    []int32 `json:"owned"`
			Replicas []struct {
				MemberID string  `json:"member_id"`
				Shards   []int32 `json:"shards"`
				Self     bool    `json:"self"`
			} `json:"replicas"`
			Error string `json:"error"`
		}
		if err := getJSONURL(p.url+"/api/v1/replicas", &v); err != nil {
			s.t.Fatal(err)
		}
		seen := map[int32]int{}
		self := 0
		for _, r := range v.Replicas {
			for _, sh := range r.Shards {
				seen[sh]++
			}
			if r.Self {
				self++
				if r.MemberID != v.MemberID || !slices.Equal(r.Shards, v.Owned) {
					s.t.Errorf("%s: self %s %v, but this replica says %s %v", p.url, r.MemberID, r.Shards, v.MemberID, v.Owned)
				}
			}
		}
		if v.Error != "" || len(v.Replicas) != n || self != 1 || len(seen) != haShards || v.Shards != haShards {
			s.t.Errorf("%s/api/v1/replicas: %d replicas (want %d), self %d, %d distinct shards of %d, error %q", p.url, len(v.Replicas), n, self, len(seen), v.Shards, v.Error)
		}
		for sh, k := range seen {
			if k != 1 {
				s.t.Errorf("shard %d assigned %d times", sh, k)
			}
		}
		body, err := getText(p.url + "/")
		if err != nil || !strings.Contains(body, "owner: replica "+v.MemberID) {
			s.t.Errorf("%s/: the status page does not name the replica %s as owner (err %v)", p.url, v.MemberID, err)
		}
	}
}

func getJSONURL(url string, v any) error {
	body, err := getText(url)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		return fmt.Errorf("%s: %w: %s", url, err, body)
	}
	return nil
}

func getText(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}

// waitProm polls cond (Prometheus queries) until it holds.
func waitProm(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, what, 2*time.Minute, 250*time.Millisecond, cond)
}

// checkHAPanels runs the queries of the dashboard's HA panels (those that
// read offsetlag_ha_*; deploy's real-Prometheus test, without replicas,
// leaves them to this test): each returns data, and owned equals shards.
func checkHAPanels(t *testing.T, ps *promtest.Server) {
	t.Helper()
	d := promtest.LoadDashboard(t)
	values := map[string]string{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if !strings.Contains(tg.Expr, "offsetlag_ha_") {
				continue
			}
			var res []promtest.Sample
			waitProm(t, "panel "+p.Title+": "+tg.Expr, func() bool { res = ps.Query(t, tg.Expr); return len(res) > 0 })
			values[tg.Expr] = res[0].Value()
		}
	}
	owned, shards := values["sum by (job) (offsetlag_ha_shards_owned)"], values["max by (job) (offsetlag_ha_shards)"]
	if owned != fmt.Sprint(haShards) || shards != fmt.Sprint(haShards) {
		t.Errorf("dashboard HA panel: owned %q, shards %q, want %d and %d (panel queries %v)", owned, shards, haShards, haShards, values)
	}
}

// TestHASecurity: two HA replicas of one group on a real broker, one over
// SCRAM-SHA-512 and one over mutual TLS: the coordination client (franz-go)
// uses the cluster's security settings like the admin client (sarama): both
// join, share the shards, and no password reaches a log.
func TestHASecurity(t *testing.T) {
	opts := secureOptions
	opts.Version = suiteVersions()[0]
	b := kafkatest.Shared(t, opts)
	pki := b.PKI
	ha := []string{"--poll.interval", haPoll.String(), "--ha.enabled", "--ha.topic", uniq("ha-sec"),
		"--ha.group", uniq("ha-sec-replicas"), "--ha.partitions", fmt.Sprint(haShards), "--ha.session-timeout", haSession.String()}
	scram := append([]string{"--kafka.sasl.mechanism", "SCRAM-SHA-512", "--kafka.sasl.username", "offsetlag"}, ha...)
	mtls := append([]string{"--kafka.tls.enable", "--kafka.tls.ca-file", pki.CAFile,
		"--kafka.tls.cert-file", pki.ClientCert, "--kafka.tls.key-file", pki.ClientKey}, ha...)
	viaSCRAM := startSecureExporter(t, b.SASLAddr, []string{"OFFSETLAG_KAFKA_SASL_PASSWORD=lag-secret-1"}, scram...)
	viaTLS := startSecureExporter(t, b.TLSAddr, nil, mtls...)
	owned := func(p *exporterProc) float64 {
		ms, err := p.scrape()
		if err != nil {
			return -1
		}
		return ms.value("offsetlag_ha_shards_owned", nil)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		a, c := owned(viaSCRAM), owned(viaTLS)
		if a > 0 && c > 0 && a+c == haShards {
			t.Logf("over SCRAM: %v shards, over mutual TLS: %v shards", a, c)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas never shared the %d shards: SCRAM %v, TLS %v\nSCRAM log:\n%s\nTLS log:\n%s", haShards, a, c,
				testenv.TailLines(viaSCRAM.logs.String(), 15), testenv.TailLines(viaTLS.logs.String(), 15))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for name, p := range map[string]*exporterProc{"scram": viaSCRAM, "tls": viaTLS} {
		checkNoSecret(t, "HA replica "+name, p.logs.String())
	}
}
