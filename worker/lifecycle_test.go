package worker

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/offsetlag/offsetlag/worker/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// sarama's go-metrics meters share one process-wide ticker goroutine.
		goleak.IgnoreTopFunction("github.com/rcrowley/go-metrics.(*meterArbiter).tick"),
	)
}

// TestGracefulStopFinishesInFlightBatch cancels the worker while a batch is
// accumulating (the window is long): Run must process it, commit, and
// return nil.
func TestGracefulStopFinishesInFlightBatch(t *testing.T) {
	e := newEnv(t, 1, 1)
	st := newMemStore()
	r := e.start("g-stop", st, func(c *Config) { c.BatchSize = 1000; c.BatchWindow = time.Minute })
	waitFor(t, "start committed", func() bool { return e.committed("g-stop", 0) == 0 })
	e.produce(0, time.Time{}, numbers(1, 30)...)
	waitFor(t, "30 records received", func() bool { return testutil.ToFloat64(r.m.Received) == 30 })
	if st.count() != 0 {
		t.Fatalf("batch processed before its window closed: %d rows", st.count())
	}
	r.stop(t) // fails the test unless Run returns nil
	if st.count() != 30 {
		t.Fatalf("rows after stop = %d, want 30 (in-flight batch finished)", st.count())
	}
	if got := e.committed("g-stop", 0); got != 30 {
		t.Fatalf("committed after stop = %d, want 30", got)
	}
}

// TestIdempotentRedelivery processes the topic twice into one SQLite store
// (the second time as a new group from TRIM_HORIZON, as after offset
// expiry): each record keeps exactly one row.
func TestIdempotentRedelivery(t *testing.T) {
	e := newEnv(t, 1, 2)
	e.produce(0, time.Time{}, numbers(1, 40)...)
	e.produce(1, time.Time{}, numbers(1, 40)...) // same numbers, other partition: distinct msg_ids
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func() int {
		n, err := st.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	r1 := e.start("g-first", st, nil)
	waitFor(t, "80 rows", func() bool { return count() == 80 })
	r1.stop(t)
	first, ok, err := st.Get(ctx, store.MsgID(srcTopic, 1, 39))
	if err != nil || !ok || first.Number != 40 || len(first.Factors) != 8 {
		t.Fatalf("row = %+v, %v, %v", first, ok, err)
	}
	r2 := e.start("g-second", st, nil)
	waitFor(t, "second pass committed", func() bool {
		return e.committed("g-second", 0) == 40 && e.committed("g-second", 1) == 40
	})
	if got := testutil.ToFloat64(r2.m.Records.WithLabelValues("stored")); got != 80 {
		t.Fatalf("second pass stored %v records, want 80 (all redelivered)", got)
	}
	r2.stop(t)
	if n := count(); n != 80 {
		t.Fatalf("rows after redelivery = %d, want 80", n)
	}
	again, _, _ := st.Get(ctx, store.MsgID(srcTopic, 1, 39))
	if !again.ProcessedAt.Equal(first.ProcessedAt) {
		t.Fatal("redelivery overwrote the first row")
	}
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		c := Config{Brokers: []string{"b:9092"}, Topics: []string{"t"}, Group: "g", FailureTopic: "f"}
		c.SetDefaults()
		return c
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "no brokers"},
		{"failure topic is source", func(c *Config) { c.FailureTopic = "t" }, "also a source topic"},
		{"batch size", func(c *Config) { c.BatchSize = 20000 }, "batch size"},
		{"unlimited retries without age", func(c *Config) { c.MaxRetries = -1 }, "max record age"},
		{"at timestamp without time", func(c *Config) { c.StartingPosition = AtTimestamp }, "needs a starting timestamp"},
		{"bad position", func(c *Config) { c.StartingPosition = "EARLIEST" }, "starting position"},
		{"old kafka", func(c *Config) { c.KafkaVersion = sarama.V2_0_0_0 }, "want >= 2.1.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := valid()
			c.mod(&cfg)
			err := cfg.Validate()
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
	if _, err := ParseStartingPosition("latest"); err != nil {
		t.Fatal(err)
	}
}
