package worker

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/mototest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/worker/store"
)

// rejectStore is a memStore whose Put fails as a whole (a plain error that
// names no record) when the batch holds a number in poison, like a store
// without per-record reporting.
type rejectStore struct {
	*memStore
	poison map[uint64]bool
}

func (s *rejectStore) Put(ctx context.Context, rs []store.Result) error {
	for _, r := range rs {
		if s.poison[r.Number] {
			s.memStore.mu.Lock()
			s.memStore.puts = append(s.memStore.puts, len(rs))
			s.memStore.mu.Unlock()
			return fmt.Errorf("number %d rejected", r.Number)
		}
	}
	return s.memStore.Put(ctx, rs)
}

// poisonRun produces perPart records to each of parts partitions, one in
// every 100 a poison value (poisonValue(i)), the rest distinct good
// numbers; it returns the source positions ("p/offset") of the poison.
func poisonRun(e *env, parts int32, perPart int, poisonValue func(i int) string) map[string]bool {
	poison := map[string]bool{}
	for p := int32(0); p < parts; p++ {
		vals := numbers(int(p)*perPart+1, perPart)
		for i := range vals {
			if i%100 == 37 {
				vals[i] = poisonValue(int(p)*perPart + i)
				poison[fmt.Sprintf("%d/%d", p, i)] = true
			}
		}
		e.produce(p, time.Time{}, vals...)
	}
	return poison
}

// checkFailures requires the failure topic to hold exactly the poison
// records, each once, with reason retries_exhausted.
func checkFailures(t *testing.T, e *env, poison map[string]bool) {
	t.Helper()
	dl := e.deadLetters(len(poison))
	seen := map[string]bool{}
	for _, r := range dl {
		k := header(r, HeaderSourcePartition) + "/" + header(r, HeaderSourceOffset)
		if !poison[k] || seen[k] {
			t.Fatalf("dead letter %s (reason %s): not poison or twice", k, header(r, HeaderReason))
		}
		if header(r, HeaderReason) != ReasonRetriesExhausted {
			t.Fatalf("dead letter %s: reason %q", k, header(r, HeaderReason))
		}
		seen[k] = true
	}
}

// TestBisectIsolatesPoison: a store that fails a whole batch for one bad
// record (no per-record report). With --bisect-on-error the batch is split
// in halves down to the poison record, which alone is dead-lettered; every
// good record is stored once and none is dead-lettered.
func TestBisectIsolatesPoison(t *testing.T) {
	const parts, perPart = 2, 300
	e := newEnv(t, 1, parts)
	poisonNums := map[uint64]bool{}
	poison := poisonRun(e, parts, perPart, func(i int) string {
		n := uint64(900_000 + i)
		poisonNums[n] = true
		return fmt.Sprintf(`{"number": %d}`, n)
	})
	st := &rejectStore{memStore: newMemStore(), poison: poisonNums}
	r := e.start("g-bisect", st, func(c *Config) { c.BisectOnError = true; c.MaxRetries = 1 })
	good := parts*perPart - len(poison)
	waitFor(t, "every good record stored", func() bool { return st.count() == good })
	for p := int32(0); p < parts; p++ {
		waitFor(t, "commit at the end", func() bool { return e.committed("g-bisect", p) == perPart })
	}
	checkFailures(t, e, poison)
	for id := range st.rows {
		if poisonNums[st.rows[id].Number] {
			t.Fatalf("poison %s stored", id)
		}
	}
	// Each poison record was isolated by splitting (a batch of 100 splits
	// 7 times down to it; batches closed by the window are smaller).
	if got := testutil.ToFloat64(r.m.Bisections); got < float64(len(poison)) {
		t.Fatalf("bisections = %v, want >= %d", got, len(poison))
	}
	if got := testutil.ToFloat64(r.m.Records.WithLabelValues("stored")); got != float64(good) {
		t.Fatalf("records stored = %v, want %d", got, good)
	}
	t.Logf("RELIABILITY | worker, bisect on: a store that fails a whole batch for one poison record, 1 per 100 (%d records, %d poison) | good records stored once, only poison dead-lettered | %d rows, %d dead letters (each poison record once), %v bisections, %d store calls |",
		parts*perPart, len(poison), st.count(), len(poison), testutil.ToFloat64(r.m.Bisections), len(st.putSizes()))
}

// TestPartialBatchSQLite: one poison record per 100 that SQLite itself
// rejects (a trigger); with bisect on, every good record is stored exactly
// once and only the poison records are dead-lettered.
func TestPartialBatchSQLite(t *testing.T) {
	const parts, perPart = 2, 300
	e := newEnv(t, 1, parts)
	poison := poisonRun(e, parts, perPart, func(i int) string { return fmt.Sprintf(`{"number": 777%06d}`, i) })
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "results.db")
	st, err := store.OpenSQLite(ctx, path) // creates the schema
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	// The rejection an operator could add with the sqlite3 shell.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER reject_poison BEFORE INSERT ON results
		WHEN NEW.number LIKE '777%' BEGIN SELECT RAISE(ABORT, 'poison number'); END`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, err = store.OpenSQLite(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e.start("g-sqlite-poison", st, func(c *Config) { c.BisectOnError = true; c.MaxRetries = 1 })
	for p := int32(0); p < parts; p++ {
		waitFor(t, "commit at the end", func() bool { return e.committed("g-sqlite-poison", p) == perPart })
	}
	checkFailures(t, e, poison)
	ids, err := st.MsgIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != parts*perPart-len(poison) {
		t.Fatalf("%d rows, want %d", len(ids), parts*perPart-len(poison))
	}
	for _, id := range ids {
		var p, off int
		if _, err := fmt.Sscanf(id, srcTopic+"-%d-%d", &p, &off); err != nil || poison[fmt.Sprintf("%d/%d", p, off)] {
			t.Fatalf("row %s: poison or malformed id", id)
		}
	}
	t.Logf("RELIABILITY | worker, bisect on: SQLite rejects 1 record per 100 (a trigger; %d records, %d poison) | good records stored once, only poison dead-lettered | %d rows, %d dead letters (each poison record once) |",
		parts*perPart, len(poison), len(ids), len(poison))
}

// bigPoison has 103,680 divisors: its item is far above DynamoDB's (and
// moto's) 400 KB item limit, so DynamoDB rejects it with a
// ValidationException, as it would on AWS.
const bigPoison = 897612484786617600

// TestPartialBatchDynamoDB: one record per 100 whose item DynamoDB (moto)
// rejects; with bisect on, every good record is stored exactly once and
// only the poison records are dead-lettered (the others of their batch and
// chunk are not).
func TestPartialBatchDynamoDB(t *testing.T) {
	const parts, perPart = 2, 200
	ep := mototest.Start(t)
	e := newEnv(t, 1, parts)
	poison := poisonRun(e, parts, perPart, func(int) string { return fmt.Sprintf(`{"number": %d}`, uint64(bigPoison)) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	table := mototest.TableName("poison-")
	awsCfg := mototest.AWSConfig(ep)
	client := mototest.DynamoDB(ep)
	if err := store.CreateDynamoDBTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenDynamoDB(awsCfg, store.DynamoDBConfig{Table: table, Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	r := e.start("g-ddb-poison", st, func(c *Config) {
		c.BisectOnError = true
		c.MaxRetries = 1
		c.Limits.MaxNumber = bigPoison
	})
	for p := int32(0); p < parts; p++ {
		waitFor(t, "commit at the end", func() bool { return e.committed("g-ddb-poison", p) == perPart })
	}
	checkFailures(t, e, poison)
	good := parts*perPart - len(poison)
	ids := mototest.Keys(t, client, table, "msg_id")
	if len(ids) != good {
		t.Fatalf("table holds %d items, want %d", len(ids), good)
	}
	for id := range ids {
		var p, off int
		if _, err := fmt.Sscanf(id, srcTopic+"-%d-%d", &p, &off); err != nil || poison[fmt.Sprintf("%d/%d", p, off)] {
			t.Fatalf("item %s: poison or malformed id", id)
		}
	}
	if got := testutil.ToFloat64(r.m.Records.WithLabelValues("stored")); got != float64(good) {
		t.Fatalf("records stored = %v, want %d", got, good)
	}
	t.Logf("RELIABILITY | worker, bisect on: DynamoDB (moto) rejects 1 item per 100 (a 103,680-divisor number over 400 KB; %d records, %d poison) | good records stored once, only poison dead-lettered | %d items, %d dead letters (each poison record once) |",
		parts*perPart, len(poison), len(ids), len(poison))
}

// TestWaitsForKafka starts the worker before its broker exists: it keeps
// retrying (its backoff reaches its cap and stays there, the steady state a
// longer wait would only repeat), reports itself not connected and not
// ready, and once the broker comes up on that address it consumes every
// record.
func TestWaitsForKafka(t *testing.T) {
	port := testenv.FreePorts(t, 1)[0]
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	st := newMemStore()
	e := &env{t: t, addrs: []string{addr}}
	r := e.start("g-wait", st, func(c *Config) {
		c.ConnectBackoff, c.MaxConnectBackoff = 50*time.Millisecond, 200*time.Millisecond
	})
	// 50, 100, 200, 200, 200 ms: three attempts at the cap.
	waitFor(t, "connection attempts with the backoff at its cap", func() bool { return r.w.Status().Attempts >= 6 })
	s := r.w.Status()
	if s.State != StateConnecting || s.Connected || s.Ready() || s.LastError == "" {
		t.Fatalf("status while Kafka is down = %+v", s)
	}
	if testutil.ToFloat64(r.m.Connected) != 0 || testutil.ToFloat64(r.m.Consuming) != 0 {
		t.Fatal("metrics say connected or consuming while Kafka is down")
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned while waiting for Kafka: %v", err)
	default:
	}

	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(2, srcTopic, failTopic))
	ke := newEnvOn(t, c)
	ke.produce(0, time.Time{}, numbers(1, 150)...)
	ke.produce(1, time.Time{}, numbers(1, 50)...)
	waitFor(t, "every record stored", func() bool { return st.count() == 200 })
	waitFor(t, "commits at the end", func() bool { return ke.committed("g-wait", 0) == 150 && ke.committed("g-wait", 1) == 50 })
	s = r.w.Status()
	if !s.Ready() || !s.Connected || s.Partitions != 2 || s.Attempts != 0 || s.LastError != "" {
		t.Fatalf("status after Kafka came up = %+v", s)
	}
	if testutil.ToFloat64(r.m.Connected) != 1 || testutil.ToFloat64(r.m.Consuming) != 1 {
		t.Fatal("metrics do not say connected and consuming")
	}
	r.stop(t)
	if got := r.w.Status().State; got != StateStopped {
		t.Fatalf("state after stop = %s", got)
	}
}

// TestStopWhileWaitingForKafka: cancelling Run while Kafka was never
// reachable returns nil at once.
func TestStopWhileWaitingForKafka(t *testing.T) {
	e := &env{t: t, addrs: []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePorts(t, 1)[0]))}}
	r := e.start("g-never", newMemStore(), func(c *Config) { c.ConnectBackoff, c.MaxConnectBackoff = 20*time.Millisecond, 40*time.Millisecond })
	waitFor(t, "a failed attempt", func() bool { return r.w.Status().Attempts >= 1 })
	r.stop(t)
	if r.w.Status().State != StateStopped {
		t.Fatalf("state = %s", r.w.Status().State)
	}
}
