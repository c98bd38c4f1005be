package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/worker/store"
)

const (
	srcTopic  = "numbers"
	failTopic = "numbers-failed"
)

// memStore is an in-memory Store that records every Put and can fail.
type memStore struct {
	mu        sync.Mutex
	rows      map[string]store.Result
	puts      []int // records per Put call, successful or not
	failFirst int   // fail this many Put calls first
	failAll   bool
}

func newMemStore() *memStore { return &memStore{rows: map[string]store.Result{}} }

func (s *memStore) Put(_ context.Context, rs []store.Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts = append(s.puts, len(rs))
	if s.failAll || len(s.puts) <= s.failFirst {
		return errors.New("injected store failure")
	}
	for _, r := range rs {
		if _, ok := s.rows[r.MsgID]; !ok {
			s.rows[r.MsgID] = r
		}
	}
	return nil
}

func (s *memStore) Close() error { return nil }

func (s *memStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows)
}

func (s *memStore) putSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.puts)
}

// offsets returns the stored source offsets, sorted.
func (s *memStore) offsets() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for _, r := range s.rows {
		out = append(out, r.Offset)
	}
	slices.Sort(out)
	return out
}

type env struct {
	t       testing.TB
	cluster *kfaketest.Cluster
	addrs   []string
	cl      *kgo.Client
	adm     *kadm.Client
}

func newEnv(t testing.TB, brokers int, partitions int32) *env {
	t.Helper()
	c := kfaketest.New(t, kfake.NumBrokers(brokers), kfake.SeedTopics(partitions, srcTopic, failTopic))
	return newEnvOn(t, c)
}

// newEnvOn returns an env with a client of cluster c.
func newEnvOn(t testing.TB, c *kfaketest.Cluster) *env {
	t.Helper()
	cl := c.Client
	return &env{t: t, cluster: c, addrs: c.ListenAddrs(), cl: cl, adm: kadm.NewClient(cl)}
}

// produce writes values to partition p of the source topic.
func (e *env) produce(p int32, ts time.Time, values ...string) {
	e.t.Helper()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: srcTopic, Partition: p, Value: []byte(v), Timestamp: ts}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		e.t.Fatalf("produce: %v", err)
	}
}

func numbers(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"number": %d}`, from+i)
	}
	return out
}

// committed returns the group's committed offset of the source partition, or -1.
func (e *env) committed(group string, p int32) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	os, err := e.adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	o, ok := os.Lookup(srcTopic, p)
	if !ok || o.Err != nil {
		return -1
	}
	return o.At
}

func (e *env) commit(group string, p int32, at int64) {
	e.t.Helper()
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: srcTopic, Partition: p, At: at, LeaderEpoch: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.adm.CommitOffsets(ctx, group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		e.t.Fatalf("commit: %v", err)
	}
}

// failureReader is a client reading the failure topic from its start,
// committed records only.
func (e *env) failureReader() *kgo.Client {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addrs...), kgo.ConsumeTopics(failTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		e.t.Fatal(err)
	}
	return cl
}

// deadLetters reads want records from the failure topic (failing the test
// if fewer arrive) and then checks that no more follow for a moment.
func (e *env) deadLetters(want int) []*kgo.Record {
	e.t.Helper()
	cl := e.failureReader()
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(2 * time.Minute)
	extra := time.Time{}
	for {
		if len(out) >= want && extra.IsZero() {
			extra = time.Now().Add(500 * time.Millisecond)
		}
		if (!extra.IsZero() && time.Now().After(extra)) || time.Now().After(deadline) {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		out = append(out, fs.Records()...)
	}
	if len(out) != want {
		e.t.Fatalf("failure topic holds %d records, want %d", len(out), want)
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

type running struct {
	w      *Worker
	reg    *prometheus.Registry
	m      *Metrics
	cancel context.CancelFunc
	done   chan error
}

// start runs a worker until stop.
func (e *env) start(group string, st store.Store, mod func(*Config)) *running {
	e.t.Helper()
	cfg := Config{
		Brokers: e.addrs, Topics: []string{srcTopic}, Group: group, FailureTopic: failTopic,
		BatchSize: 100, BatchWindow: 200 * time.Millisecond, MaxRetries: 2,
		RetryBackoff: 10 * time.Millisecond, MaxRetryBackoff: 50 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	w, err := New(cfg, st, log, m)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: w, reg: reg, m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	e.t.Cleanup(func() { r.stop(e.t) })
	return r
}

// stop cancels the worker and requires Run to return nil.
func (r *running) stop(t testing.TB) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() || os.Getenv("FACTOR_WORKER_TEST_LOG") != "" {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, what, 2*time.Minute, 20*time.Millisecond, cond)
}

func TestBatchingAndCommit(t *testing.T) {
	e := newEnv(t, 3, 1)
	e.produce(0, time.Time{}, numbers(1, 250)...)
	st := newMemStore()
	r := e.start("g-batch", st, func(c *Config) { c.BatchWindow = 2 * time.Second })
	waitFor(t, "250 rows", func() bool { return st.count() == 250 })
	waitFor(t, "commit 250", func() bool { return e.committed("g-batch", 0) == 250 })
	sizes := st.putSizes()
	total := 0
	for _, s := range sizes {
		if s > 100 {
			t.Fatalf("batch of %d records > batch size 100 (%v)", s, sizes)
		}
		total += s
	}
	if total != 250 || len(sizes) < 3 {
		t.Fatalf("put sizes %v: want >= 3 batches summing to 250", sizes)
	}
	if !slices.Contains(sizes, 100) {
		t.Fatalf("put sizes %v: no full batch although 250 records were waiting", sizes)
	}
	// A lone record is processed when the batching window closes.
	e.produce(0, time.Time{}, numbers(1000, 3)...)
	waitFor(t, "253 rows", func() bool { return st.count() == 253 })
	if last := st.putSizes()[len(st.putSizes())-1]; last != 3 {
		t.Fatalf("window batch had %d records, want 3", last)
	}
	waitFor(t, "commit 253", func() bool { return e.committed("g-batch", 0) == 253 })
	if got := testutil.ToFloat64(r.m.Invocations); int(got) != len(st.putSizes()) {
		t.Fatalf("invocations = %v, want %d", got, len(st.putSizes()))
	}
	if got := testutil.ToFloat64(r.m.Records.WithLabelValues("stored")); got != 253 {
		t.Fatalf("records stored = %v", got)
	}
	if got := testutil.ToFloat64(r.m.OffsetLag.WithLabelValues(srcTopic, "0")); got != 0 {
		t.Fatalf("offset lag = %v, want 0", got)
	}
	r.stop(t)
	if n := testutil.CollectAndCount(r.m.OffsetLag); n != 0 {
		t.Fatalf("offset lag series after stop = %d, want 0 (partition released)", n)
	}
}

func TestBadInputDeadLettered(t *testing.T) {
	e := newEnv(t, 1, 2)
	values := []string{`{"number": 12}`, `not json`, `{"number": -3}`, `{"number": 7}`, `{"number": 1.5}`,
		`{"number": 1000000000001}`, `{"n": 1}`, `{"number": "9"}`, `{"number": 30}`}
	e.produce(1, time.Time{}, values...)
	e.produce(0, time.Time{}, numbers(2, 5)...)
	st := newMemStore()
	r := e.start("g-bad", st, func(c *Config) { c.BatchSize = 4 })
	waitFor(t, "rows", func() bool { return st.count() == 8 })
	waitFor(t, "commit p1", func() bool { return e.committed("g-bad", 1) == int64(len(values)) })
	waitFor(t, "commit p0", func() bool { return e.committed("g-bad", 0) == 5 })
	dl := e.deadLetters(6)
	want := map[string]string{"1": "not_json", "2": "negative", "4": "fractional", "5": "above_max", "6": "missing_number", "7": "number_is_string"}
	for _, rec := range dl {
		off := header(rec, HeaderSourceOffset)
		if want[off] == "" || header(rec, HeaderReason) != want[off] {
			t.Fatalf("dead letter offset %s reason %q, want %q", off, header(rec, HeaderReason), want[off])
		}
		if header(rec, HeaderSourceTopic) != srcTopic || header(rec, HeaderSourcePartition) != "1" {
			t.Fatalf("dead letter headers %v", rec.Headers)
		}
		i, _ := strconv.Atoi(off)
		if string(rec.Value) != values[i] {
			t.Fatalf("dead letter value %q, want %q", rec.Value, values[i])
		}
		delete(want, off)
	}
	if len(want) != 0 {
		t.Fatalf("missing dead letters: %v", want)
	}
	for reason, n := range map[string]float64{"not_json": 1, "negative": 1, "above_max": 1, "zero": 0} {
		if got := testutil.ToFloat64(r.m.DeadLettered.WithLabelValues(reason)); got != n {
			t.Fatalf("dead_lettered_total{reason=%s} = %v, want %v", reason, got, n)
		}
	}
	if got := testutil.ToFloat64(r.m.Records.WithLabelValues("dead_lettered")); got != 6 {
		t.Fatalf("records dead_lettered = %v", got)
	}
}

// TestTransactionalDeadLetters runs the bad-input case with a
// transactional id: dead letters are readable (read_committed) and the
// offsets committed through the transaction.
func TestTransactionalDeadLetters(t *testing.T) {
	e := newEnv(t, 1, 1)
	e.produce(0, time.Time{}, `{"number": 6}`, `bad`, `{"number": -1}`, `{"number": 8}`)
	st := newMemStore()
	e.start("g-txn", st, func(c *Config) { c.TransactionalID = "test-txn-0"; c.BatchSize = 2 })
	waitFor(t, "rows", func() bool { return st.count() == 2 })
	waitFor(t, "commit", func() bool { return e.committed("g-txn", 0) == 4 })
	dl := e.deadLetters(2)
	if header(dl[0], HeaderSourceOffset) != "1" || header(dl[1], HeaderReason) != "negative" {
		t.Fatalf("dead letters %v / %v", dl[0].Headers, dl[1].Headers)
	}
}

func TestRetriesThenFailureTopic(t *testing.T) {
	e := newEnv(t, 1, 1)
	e.produce(0, time.Time{}, numbers(10, 5)...)
	st := newMemStore()
	st.failAll = true
	r := e.start("g-retry", st, func(c *Config) { c.BatchSize = 5; c.BatchWindow = time.Second; c.MaxRetries = 2 })
	dl := e.deadLetters(5)
	for i, rec := range dl {
		if header(rec, HeaderReason) != ReasonRetriesExhausted || header(rec, HeaderSourceOffset) != strconv.Itoa(i) {
			t.Fatalf("dead letter %d: reason %q offset %q", i, header(rec, HeaderReason), header(rec, HeaderSourceOffset))
		}
		if header(rec, HeaderError) == "" {
			t.Fatalf("dead letter %d has no error header", i)
		}
	}
	waitFor(t, "commit after dead-lettering", func() bool { return e.committed("g-retry", 0) == 5 })
	if sizes := st.putSizes(); !slices.Equal(sizes, []int{5, 5, 5}) {
		t.Fatalf("put calls %v, want 3 attempts of 5 (1 + 2 retries)", sizes)
	}
	if got := testutil.ToFloat64(r.m.Errors); got != 3 {
		t.Fatalf("errors_total = %v, want 3", got)
	}
	if got := testutil.ToFloat64(r.m.DeadLettered.WithLabelValues(ReasonRetriesExhausted)); got != 5 {
		t.Fatalf("dead_lettered_total{retries_exhausted} = %v", got)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	e := newEnv(t, 1, 1)
	e.produce(0, time.Time{}, numbers(10, 4)...)
	st := newMemStore()
	st.failFirst = 2
	r := e.start("g-retry-ok", st, func(c *Config) { c.BatchSize = 4; c.MaxRetries = 5 })
	waitFor(t, "rows", func() bool { return st.count() == 4 })
	waitFor(t, "commit", func() bool { return e.committed("g-retry-ok", 0) == 4 })
	if got := testutil.ToFloat64(r.m.Errors); got != 2 {
		t.Fatalf("errors_total = %v, want 2", got)
	}
	e.deadLetters(0)
}

func TestRecordAgeExceeded(t *testing.T) {
	e := newEnv(t, 1, 1)
	e.produce(0, time.Now().Add(-time.Hour), numbers(10, 2)...)
	st := newMemStore()
	st.failAll = true
	e.start("g-age", st, func(c *Config) { c.MaxRetries = -1; c.MaxRecordAge = time.Minute })
	dl := e.deadLetters(2)
	if header(dl[0], HeaderReason) != ReasonRecordAgeExceeded {
		t.Fatalf("reason %q, want %s", header(dl[0], HeaderReason), ReasonRecordAgeExceeded)
	}
	if n := len(st.putSizes()); n != 1 {
		t.Fatalf("put attempts = %d, want 1 (record already too old)", n)
	}
}

func TestStartingPositions(t *testing.T) {
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	cases := []struct {
		name      string
		pos       StartingPosition
		ts        time.Time
		preCommit int64 // -1: new group
		want      []int64
	}{
		{"TRIM_HORIZON new group reads everything", TrimHorizon, time.Time{}, -1, seq(0, 23)},
		{"LATEST new group reads only new records", Latest, time.Time{}, -1, seq(20, 23)},
		{"AT_TIMESTAMP new group starts at the timestamp", AtTimestamp, base.Add(30 * time.Minute), -1, seq(10, 23)},
		{"AT_TIMESTAMP after the last record starts at the end", AtTimestamp, time.Now().Add(time.Hour), -1, seq(20, 23)},
		{"valid commit beats LATEST", Latest, time.Time{}, 7, seq(7, 23)},
		{"valid commit beats TRIM_HORIZON", TrimHorizon, time.Time{}, 15, seq(15, 23)},
		{"commit above log end is invalid: TRIM_HORIZON", TrimHorizon, time.Time{}, 1000, seq(0, 23)},
		{"commit above log end is invalid: AT_TIMESTAMP", AtTimestamp, base.Add(30 * time.Minute), 1000, seq(10, 23)},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 1, 1)
			e.produce(0, base, numbers(100, 10)...)                // offsets 0-9, old
			e.produce(0, base.Add(time.Hour), numbers(200, 10)...) // offsets 10-19, newer
			group := fmt.Sprintf("g-start-%d", i)
			if c.preCommit >= 0 {
				e.commit(group, 0, c.preCommit)
			}
			st := newMemStore()
			e.start(group, st, func(cfg *Config) { cfg.StartingPosition = c.pos; cfg.StartingTimestamp = c.ts })
			// Setup commits the start position (or finds the valid commit
			// there); records produced after that are always read.
			waitFor(t, "start position committed", func() bool { return e.committed(group, 0) == c.want[0] })
			e.produce(0, time.Time{}, numbers(300, 3)...) // offsets 20-22
			waitFor(t, "rows", func() bool { return st.count() >= len(c.want) })
			waitFor(t, "commit 23", func() bool { return e.committed(group, 0) == 23 })
			if got := st.offsets(); !slices.Equal(got, c.want) {
				t.Fatalf("stored offsets %v, want %v", got, c.want)
			}
		})
	}
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}
