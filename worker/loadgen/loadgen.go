// Package loadgen generates factor-worker input: {"number": N} records with
// a configurable number distribution and a share of malformed records, and
// produces them to Kafka at a target rate.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/backoff"
)

// Distribution of the generated numbers.
type Distribution string

// Distributions.
const (
	Uniform    Distribution = "uniform"     // uniform in [Min, Max]
	LogUniform Distribution = "log-uniform" // uniform in log space: mostly small, some large
)

// Config configures a Generator and Produce.
type Config struct {
	Brokers      []string
	Topic        string
	Count        int64   // records to produce (> 0)
	Rate         float64 // records per second; 0 = as fast as possible
	Distribution Distribution
	Min, Max     uint64  // number range, 1 <= Min <= Max
	LargeShare   float64 // share of numbers drawn from the top half of [Min, Max] (slow to factor by trial division)
	Malformed    float64 // share of malformed records, 0..1
	Seed         uint64  // random seed (same seed, same records)
	KafkaVersion sarama.KafkaVersion
	// Customize, when set, is applied last to the sarama configuration
	// (TLS, SASL).
	Customize func(*sarama.Config) error
}

// Validate reports invalid fields.
func (c *Config) Validate() error {
	var errs []error
	if c.Count <= 0 {
		errs = append(errs, fmt.Errorf("count %d: want > 0", c.Count))
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		errs = append(errs, fmt.Errorf("rate %v: want >= 0", c.Rate))
	}
	if c.Distribution != Uniform && c.Distribution != LogUniform {
		errs = append(errs, fmt.Errorf("distribution %q: want uniform or log-uniform", c.Distribution))
	}
	if c.Min < 1 || c.Max < c.Min {
		errs = append(errs, fmt.Errorf("range [%d, %d]: want 1 <= min <= max", c.Min, c.Max))
	}
	if !(c.LargeShare >= 0 && c.LargeShare <= 1) || !(c.Malformed >= 0 && c.Malformed <= 1) {
		errs = append(errs, errors.New("large share and malformed share must be within 0..1"))
	}
	return errors.Join(errs...)
}

// malformedValues are the kinds of bad records generated, one per rejection
// reason the worker knows.
var malformedValues = []string{
	`not json`,
	`{"number": -7}`,
	`{"number": 2.5}`,
	`{"number": "12"}`,
	`{"value": 12}`,
	`{"number": 0}`,
	`{"number": 18446744073709551616}`,
	`[12]`,
}

// Generator yields record values. It is deterministic for a seed and not
// safe for concurrent use.
type Generator struct {
	cfg Config
	rnd *rand.Rand
	n   int64
}

// NewGenerator returns a Generator for a validated cfg.
func NewGenerator(cfg Config) *Generator {
	return &Generator{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
}

// Next returns the next record value and whether it is malformed.
func (g *Generator) Next() ([]byte, bool) {
	g.n++
	if g.cfg.Malformed > 0 && g.rnd.Float64() < g.cfg.Malformed {
		v := malformedValues[g.rnd.IntN(len(malformedValues))]
		if v == "not json" { // make each unique so a test can tell records apart
			v += " #" + strconv.FormatInt(g.n, 10)
		}
		return []byte(v), true
	}
	return []byte(`{"number": ` + strconv.FormatUint(g.number(), 10) + `}`), false
}

func (g *Generator) number() uint64 {
	lo, hi := g.cfg.Min, g.cfg.Max
	if g.cfg.LargeShare > 0 && g.rnd.Float64() < g.cfg.LargeShare {
		lo = hi - (hi-lo)/2
		return lo + g.rnd.Uint64N(hi-lo+1)
	}
	if g.cfg.Distribution == LogUniform && hi > lo {
		l := math.Log(float64(lo)) + g.rnd.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))
		n := uint64(math.Exp(l))
		return min(max(n, lo), hi)
	}
	if hi-lo == math.MaxUint64 {
		return g.rnd.Uint64()
	}
	return lo + g.rnd.Uint64N(hi-lo+1)
}

// Stats summarises a Produce run.
type Stats struct {
	Sent, Malformed, Failed int64
	Elapsed                 time.Duration
}

// Produce sends cfg.Count records to cfg.Topic at cfg.Rate and returns when
// every record was acknowledged (or failed), or ctx is done.
func Produce(ctx context.Context, cfg Config, log *slog.Logger) (Stats, error) {
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	sc := sarama.NewConfig()
	sc.Version = cfg.KafkaVersion
	sc.ClientID = "factor-worker-produce"
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.Return.Successes = true
	sc.Producer.Idempotent = true
	sc.Net.MaxOpenRequests = 1
	sc.Producer.Flush.Frequency = 5 * time.Millisecond
	sc.Producer.Flush.Messages = 500
	if cfg.Customize != nil {
		if err := cfg.Customize(sc); err != nil {
			return Stats{}, fmt.Errorf("kafka security: %w", err)
		}
	}
	p, err := sarama.NewAsyncProducer(cfg.Brokers, sc)
	if err != nil {
		return Stats{}, fmt.Errorf("producer for %v: %w", cfg.Brokers, err)
	}
	var st Stats
	done := make(chan struct{})
	var failed, acked int64
	go func() {
		defer close(done)
		acked, failed = countAcks(p, func(err error) { log.Error("produce failed", "topic", cfg.Topic, "err", err) })
	}()
	g := NewGenerator(cfg)
	start := time.Now()
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / cfg.Rate)
	}
loop:
	for i := int64(0); i < cfg.Count; i++ {
		if interval > 0 {
			if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 && !backoff.Sleep(ctx, wait) {
				break loop
			}
		}
		v, bad := g.Next()
		select {
		case p.Input() <- &sarama.ProducerMessage{Topic: cfg.Topic, Value: sarama.ByteEncoder(v)}:
		case <-ctx.Done():
			break loop
		}
		st.Sent++
		if bad {
			st.Malformed++
		}
	}
	p.AsyncClose()
	<-done
	st.Failed = failed
	st.Elapsed = time.Since(start)
	if failed > 0 {
		return st, fmt.Errorf("%d of %d records failed to produce", failed, st.Sent)
	}
	if acked != st.Sent {
		return st, fmt.Errorf("%d of %d records acknowledged", acked, st.Sent)
	}
	return st, ctx.Err()
}

// countAcks reads the producer's successes and errors until both channels
// close; the first error is passed to first.
func countAcks(p sarama.AsyncProducer, first func(error)) (acked, failed int64) {
	succ, errs := p.Successes(), p.Errors()
	for succ != nil || errs != nil {
		select {
		case _, ok := <-succ:
			if !ok {
				succ = nil
				continue
			}
			acked++
		case pe, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if failed == 0 {
				first(pe.Err)
			}
			failed++
		}
	}
	return acked, failed
}
