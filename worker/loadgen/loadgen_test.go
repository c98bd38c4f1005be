package loadgen

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/worker/message"
)

func TestGeneratorShareAndRange(t *testing.T) {
	cfg := Config{Count: 20000, Distribution: LogUniform, Min: 1, Max: 1_000_000_000_000, Malformed: 0.01, LargeShare: 0.1, Seed: 7}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := NewGenerator(cfg)
	bad, large, small := 0, 0, 0
	for i := 0; i < 20000; i++ {
		v, malformed := g.Next()
		n, err := message.Parse(v, message.Limits{MaxNumber: cfg.Max})
		if malformed != (err != nil) {
			t.Fatalf("value %q: malformed=%v but Parse error %v", v, malformed, err)
		}
		if malformed {
			bad++
			continue
		}
		if n >= cfg.Max/2 {
			large++
		}
		if n < 1_000_000 {
			small++
		}
	}
	if bad < 120 || bad > 280 {
		t.Fatalf("malformed = %d of 20000, want about 200", bad)
	}
	if large < 1800 || small < 5000 {
		t.Fatalf("large = %d, small = %d: distribution not log-uniform with 10%% large", large, small)
	}
	// Same seed, same sequence.
	a, b := NewGenerator(cfg), NewGenerator(cfg)
	for i := 0; i < 100; i++ {
		va, _ := a.Next()
		vb, _ := b.Next()
		if string(va) != string(vb) {
			t.Fatal("generator not deterministic for a seed")
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{
		{Count: 0, Distribution: Uniform, Min: 1, Max: 2},
		{Count: 1, Distribution: "zipf", Min: 1, Max: 2},
		{Count: 1, Distribution: Uniform, Min: 3, Max: 2},
		{Count: 1, Distribution: Uniform, Min: 1, Max: 2, Malformed: 1.5},
		{Count: 1, Distribution: Uniform, Min: 1, Max: 2, Rate: -1},
	}
	for i, c := range bad {
		if c.Validate() == nil {
			t.Fatalf("case %d: invalid config accepted", i)
		}
	}
}

func TestProduceToKfake(t *testing.T) {
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(3, "numbers"))
	cfg := Config{Brokers: c.ListenAddrs(), Topic: "numbers", Count: 500, Rate: 5000, Distribution: Uniform,
		Min: 1, Max: 1000, Malformed: 0.1, Seed: 1, KafkaVersion: sarama.V3_7_0_0}
	st, err := Produce(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 500 || st.Malformed == 0 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("numbers"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := 0
	deadline := time.Now().Add(10 * time.Second)
	for got < 500 && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		got += len(cl.PollFetches(ctx).Records())
		cancel()
	}
	if got != 500 {
		t.Fatalf("topic holds %d records, want 500", got)
	}
}
