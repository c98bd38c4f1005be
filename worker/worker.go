package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/backoff"
	"github.com/offsetlag/offsetlag/worker/store"
)

// Worker consumes the source topics with event-source-mapping semantics.
//
// Lifecycle: New validates and makes no connections; Run connects, consumes
// until its context is cancelled, finishes the in-flight batches, commits
// and closes every connection it opened. A Worker runs once.
type Worker struct {
	cfg     Config
	store   store.Store
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
	st      status
}

// New returns a Worker. cfg gets defaults applied and is validated.
func New(cfg Config, st store.Store, log *slog.Logger, m *Metrics) (*Worker, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("worker config: %w", err)
	}
	if st == nil {
		return nil, errors.New("worker: nil store")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		var err error
		if m, err = NewMetrics(nil); err != nil {
			return nil, err
		}
	}
	return &Worker{cfg: cfg, store: st, log: log.With("component", "worker"), metrics: m, now: time.Now}, nil
}

// SaramaConfig returns the sarama configuration the worker uses.
func SaramaConfig(cfg Config) *sarama.Config {
	sc := sarama.NewConfig()
	sc.Version = cfg.KafkaVersion
	sc.ClientID = cfg.ClientID
	// Offsets are committed after each settled batch by the claim's committer, never by sarama's auto-commit.
	sc.Consumer.Offsets.AutoCommit.Enable = false
	// Fallback only: Setup resolves the starting position explicitly.
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	if cfg.StartingPosition == Latest {
		sc.Consumer.Offsets.Initial = sarama.OffsetNewest
	}
	sc.Consumer.Group.ResetInvalidOffsets = true
	// Eager rebalancing: every claim of a generation goes through Setup,
	// where the starting position is applied.
	sc.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	sc.Consumer.Return.Errors = true
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.Return.Successes = true
	sc.Producer.Idempotent = true
	sc.Net.MaxOpenRequests = 1
	if cfg.TransactionalID != "" {
		sc.Producer.Transaction.ID = cfg.TransactionalID
	}
	sc.Producer.MaxMessageBytes = max(sc.Producer.MaxMessageBytes, cfg.MaxDeadLetterValueBytes+4096)
	return sc
}

// Run consumes until ctx is cancelled, then finishes the in-flight batches,
// commits and returns nil.
//
// Kafka not being there is not an error: the initial connection, the
// dead-letter producer and the group join are retried with backoff
// (ConnectBackoff doubling to MaxConnectBackoff) until ctx is cancelled,
// with one log line per state change (see Status). Run returns an error
// only for a configuration that can never work (security settings).
func (w *Worker) Run(ctx context.Context) error {
	defer w.setState(StateStopped, nil)
	sc := SaramaConfig(w.cfg)
	if w.cfg.Customize != nil {
		if err := w.cfg.Customize(sc); err != nil {
			return fmt.Errorf("kafka security: %w", err)
		}
	}
	w.setState(StateConnecting, nil, "brokers", w.cfg.Brokers)
	client, admin, producer, ok := w.connect(ctx, sc)
	if !ok {
		w.log.Info("worker stopped before kafka was reachable", "group", w.cfg.Group)
		return nil
	}
	defer admin.Close() // closes client
	defer producer.Close()
	group, err := sarama.NewConsumerGroupFromClient(w.cfg.Group, client)
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", w.cfg.Group, err)
	}
	defer group.Close()

	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		for err := range group.Errors() {
			w.log.Warn("consumer group error", "group", w.cfg.Group, "err", err)
		}
	}()

	h := &handler{w: w, client: client, admin: admin, producer: producer, log: w.log}
	w.log.Info("worker started", "brokers", w.cfg.Brokers, "topics", w.cfg.Topics, "group", w.cfg.Group,
		"starting_position", w.cfg.StartingPosition, "batch_size", w.cfg.BatchSize, "batch_window", w.cfg.BatchWindow,
		"bisect_on_error", w.cfg.BisectOnError)
	wait := backoff.Exponential{Min: w.cfg.ConnectBackoff, Max: w.cfg.MaxConnectBackoff}
	failures := 0
	for ctx.Err() == nil {
		w.setState(StateJoining, nil)
		err := group.Consume(ctx, w.cfg.Topics, h)
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return fmt.Errorf("consumer group %s closed: %w", w.cfg.Group, err)
		}
		if err != nil {
			failures++
			w.setState(StateConnecting, err, "retry_in", wait.Delay(failures))
			if !backoff.Sleep(ctx, wait.Delay(failures)) {
				break
			}
			continue
		}
		failures = 0
	}
	if err := group.Close(); err != nil {
		w.log.Warn("close consumer group", "group", w.cfg.Group, "err", err)
	}
	<-errDone
	w.log.Info("worker stopped", "group", w.cfg.Group)
	return nil
}

// connect opens the Kafka client and the dead-letter producer, retrying
// with backoff until both are up or ctx is cancelled (ok=false).
func (w *Worker) connect(ctx context.Context, sc *sarama.Config) (sarama.Client, sarama.ClusterAdmin, sarama.SyncProducer, bool) {
	wait := backoff.Exponential{Min: w.cfg.ConnectBackoff, Max: w.cfg.MaxConnectBackoff}
	started := w.now()
	attempts := 0
	for {
		attempts++
		client, err := sarama.NewClient(w.cfg.Brokers, sc)
		if err == nil {
			var admin sarama.ClusterAdmin
			if admin, err = sarama.NewClusterAdminFromClient(client); err != nil {
				client.Close()
				err = fmt.Errorf("kafka admin: %w", err)
			} else {
				// After a crash the broker first aborts the dead incarnation's
				// open transaction; InitProducerId answers
				// CONCURRENT_TRANSACTIONS meanwhile: retried like the rest.
				producer, perr := sarama.NewSyncProducerFromClient(client)
				if perr == nil {
					w.log.Info("connected to kafka", "brokers", w.cfg.Brokers, "attempts", attempts,
						"waited", w.now().Sub(started).Round(time.Millisecond))
					return client, admin, producer, true
				}
				client.Close()
				err = fmt.Errorf("dead-letter producer: %w", perr)
			}
		} else {
			err = fmt.Errorf("connect to kafka %v: %w", w.cfg.Brokers, err)
		}
		w.setState(StateConnecting, err, "retry_in", wait.Delay(attempts))
		if !backoff.Sleep(ctx, wait.Delay(attempts)) {
			return nil, nil, nil, false
		}
	}
}
