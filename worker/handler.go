package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/worker/factor"
	"github.com/offsetlag/offsetlag/worker/message"
	"github.com/offsetlag/offsetlag/worker/store"
)

// Dead-letter record headers.
const (
	HeaderReason          = "reason"
	HeaderError           = "error"
	HeaderSourceTopic     = "source_topic"
	HeaderSourcePartition = "source_partition"
	HeaderSourceOffset    = "source_offset"
	HeaderTruncated       = "truncated"
)

// errStopping means the session ended before a batch could complete; the
// batch is not committed and will be redelivered.
var errStopping = errors.New("session ending")

type handler struct {
	w        *Worker
	client   sarama.Client
	admin    sarama.ClusterAdmin
	producer sarama.SyncProducer
	log      *slog.Logger
	txMu     sync.Mutex // one transaction at a time on the shared producer
}

var _ sarama.ConsumerGroupHandler = (*handler)(nil)

// Cleanup implements sarama.ConsumerGroupHandler.
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

// ConsumeClaim batches one partition's records: a batch is processed when
// it holds BatchSize records or BatchWindow after its first record. When the
// session ends (shutdown or rebalance) the batch in hand is finished and
// committed before returning.
func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	cfg := h.w.cfg
	topic, partition := claim.Topic(), claim.Partition()
	log := h.log.With("topic", topic, "partition", partition)
	log.Info("partition claimed", "initial_offset", claim.InitialOffset())
	lagLabels := []string{topic, strconv.Itoa(int(partition))}
	defer h.w.metrics.OffsetLag.DeleteLabelValues(lagLabels...)

	batch := make([]*sarama.ConsumerMessage, 0, cfg.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var window <-chan time.Time
	flush := func() error {
		defer func() { batch, window = batch[:0], nil }()
		err := h.process(sess, claim, batch, log)
		if err == nil {
			next := batch[len(batch)-1].Offset + 1
			h.w.metrics.OffsetLag.WithLabelValues(lagLabels...).Set(float64(max(0, claim.HighWaterMarkOffset()-next)))
		}
		return err
	}
	for {
		if sess.Context().Err() != nil {
			break
		}
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				if len(batch) > 0 {
					_ = flush()
				}
				return nil
			}
			batch = append(batch, m)
			h.w.metrics.Received.Inc()
			if len(batch) == 1 {
				timer.Reset(cfg.BatchWindow)
				window = timer.C
			}
			if len(batch) >= cfg.BatchSize {
				if err := flush(); err != nil {
					return nil
				}
			}
		case <-window:
			if err := flush(); err != nil {
				return nil
			}
		case <-sess.Context().Done():
		}
	}
	if len(batch) > 0 {
		log.Info("session ending: finishing in-flight batch", "records", len(batch))
		_ = flush()
	}
	return nil
}

// deadLetter is one record bound for the failure topic.
type deadLetter struct {
	msg    *sarama.ConsumerMessage
	reason string
	detail string
}

// process handles one batch: parse, factor, store with retries, dead-letter
// what cannot be stored, then mark and commit the batch's last offset. It
// returns errStopping if the session ended before the batch was settled; the
// batch is then not committed.
func (h *handler) process(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim, batch []*sarama.ConsumerMessage, log *slog.Logger) error {
	cfg, m := h.w.cfg, h.w.metrics
	m.BatchSize.Observe(float64(len(batch)))
	start := h.w.now()
	results := make([]store.Result, 0, len(batch))
	resultMsgs := make([]*sarama.ConsumerMessage, 0, len(batch))
	var dead []deadLetter
	for _, msg := range batch {
		n, err := message.Parse(msg.Value, cfg.Limits)
		if err != nil {
			reason, _ := message.ReasonOf(err)
			dead = append(dead, deadLetter{msg: msg, reason: string(reason), detail: err.Error()})
			continue
		}
		results = append(results, store.Result{
			MsgID: store.MsgID(msg.Topic, msg.Partition, msg.Offset), Number: n, Factors: factor.Divisors(n),
			Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset, ProcessedAt: h.w.now().UTC(),
		})
		resultMsgs = append(resultMsgs, msg)
	}

	stored := true
	if len(results) > 0 {
		reason, err := h.storeWithRetry(sess.Context(), batch[0], results, start, log)
		if errors.Is(err, errStopping) {
			return err
		}
		if err != nil {
			stored = false
			for _, msg := range resultMsgs {
				dead = append(dead, deadLetter{msg: msg, reason: reason, detail: err.Error()})
			}
		}
	} else {
		m.Invocations.Inc()
		m.Duration.Observe(h.w.now().Sub(start).Seconds())
	}
	if len(dead) > 0 {
		slices.SortFunc(dead, func(a, b deadLetter) int { return cmp.Compare(a.msg.Offset, b.msg.Offset) })
		last := batch[len(batch)-1]
		if err := h.sendDeadLetters(sess.Context(), dead, last, log); err != nil {
			return err
		}
	}
	if stored {
		m.Records.WithLabelValues("stored").Add(float64(len(results)))
	}
	sess.MarkMessage(batch[len(batch)-1], "")
	sess.Commit()
	m.Commits.Inc()
	log.Debug("batch committed", "records", len(batch), "stored", len(results), "dead_lettered", len(dead),
		"next_offset", batch[len(batch)-1].Offset+1)
	return nil
}

// storeWithRetry writes results, retrying with exponential backoff. It
// returns nil on success, errStopping if the session ended while waiting,
// or the dead-letter reason and the last error once retries or the record
// age are exhausted.
func (h *handler) storeWithRetry(sessCtx context.Context, first *sarama.ConsumerMessage, results []store.Result, start time.Time, log *slog.Logger) (string, error) {
	cfg, m := h.w.cfg, h.w.metrics
	backoff := cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			start = h.w.now()
		}
		m.Invocations.Inc()
		// The write outlives a shutdown signal so the in-flight batch can finish.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(sessCtx), cfg.StoreTimeout)
		err := h.w.store.Put(ctx, results)
		cancel()
		m.Duration.Observe(h.w.now().Sub(start).Seconds())
		if err == nil {
			return "", nil
		}
		m.Errors.Inc()
		if cfg.MaxRetries >= 0 && attempt >= cfg.MaxRetries {
			log.Warn("store failed, retries exhausted: dead-lettering batch", "attempts", attempt+1, "records", len(results), "err", err)
			return ReasonRetriesExhausted, fmt.Errorf("store failed after %d attempts: %w", attempt+1, err)
		}
		if cfg.MaxRecordAge > 0 && !first.Timestamp.IsZero() && h.w.now().Sub(first.Timestamp) > cfg.MaxRecordAge {
			log.Warn("store failed, record age exceeded: dead-lettering batch", "attempts", attempt+1, "records", len(results), "err", err)
			return ReasonRecordAgeExceeded, fmt.Errorf("store failed, oldest record older than %s: %w", cfg.MaxRecordAge, err)
		}
		log.Warn("store failed, retrying", "attempt", attempt+1, "backoff", backoff, "err", err)
		if !sleepCtx(sessCtx, backoff) {
			return "", errStopping
		}
		backoff = min(2*backoff, cfg.MaxRetryBackoff)
	}
}

// sendDeadLetters produces the records to the failure topic, retrying until
// it succeeds or the session ends (a record is never committed before it is
// stored or dead-lettered).
func (h *handler) sendDeadLetters(sessCtx context.Context, dead []deadLetter, last *sarama.ConsumerMessage, log *slog.Logger) error {
	cfg, m := h.w.cfg, h.w.metrics
	msgs := make([]*sarama.ProducerMessage, len(dead))
	for i, d := range dead {
		value := d.msg.Value
		headers := []sarama.RecordHeader{
			{Key: []byte(HeaderReason), Value: []byte(d.reason)},
			{Key: []byte(HeaderError), Value: []byte(truncateString(d.detail, 512))},
			{Key: []byte(HeaderSourceTopic), Value: []byte(d.msg.Topic)},
			{Key: []byte(HeaderSourcePartition), Value: []byte(strconv.Itoa(int(d.msg.Partition)))},
			{Key: []byte(HeaderSourceOffset), Value: []byte(strconv.FormatInt(d.msg.Offset, 10))},
		}
		if len(value) > cfg.MaxDeadLetterValueBytes {
			value = value[:cfg.MaxDeadLetterValueBytes]
			headers = append(headers, sarama.RecordHeader{Key: []byte(HeaderTruncated), Value: []byte("true")})
		}
		pm := &sarama.ProducerMessage{Topic: cfg.FailureTopic, Value: sarama.ByteEncoder(value), Headers: headers}
		if d.msg.Key != nil {
			pm.Key = sarama.ByteEncoder(d.msg.Key)
		}
		msgs[i] = pm
	}
	backoff := cfg.RetryBackoff
	send := h.producer.SendMessages
	if cfg.TransactionalID != "" {
		send = func(msgs []*sarama.ProducerMessage) error { return h.sendInTxn(msgs, last) }
	}
	for {
		err := send(msgs)
		if err == nil {
			break
		}
		// Resend only what failed, so a partial failure adds no duplicates.
		var perrs sarama.ProducerErrors
		if cfg.TransactionalID == "" && errors.As(err, &perrs) && len(perrs) > 0 {
			msgs = msgs[:0]
			for _, pe := range perrs {
				msgs = append(msgs, pe.Msg)
			}
		}
		log.Error("produce to failure topic failed, retrying", "failure_topic", cfg.FailureTopic, "records", len(msgs), "err", err)
		if !sleepCtx(sessCtx, backoff) {
			return errStopping
		}
		backoff = min(2*backoff, cfg.MaxRetryBackoff)
	}
	for _, d := range dead {
		m.DeadLettered.WithLabelValues(d.reason).Inc()
	}
	m.Records.WithLabelValues("dead_lettered").Add(float64(len(dead)))
	log.Info("records dead-lettered", "failure_topic", cfg.FailureTopic, "records", len(dead), "first_reason", dead[0].reason)
	return nil
}

// sendInTxn writes msgs and the offset after last in one transaction.
func (h *handler) sendInTxn(msgs []*sarama.ProducerMessage, last *sarama.ConsumerMessage) error {
	h.txMu.Lock()
	defer h.txMu.Unlock()
	abort := func(err error) error {
		if h.producer.TxnStatus()&sarama.ProducerTxnFlagInTransaction != 0 {
			if aerr := h.producer.AbortTxn(); aerr != nil {
				return fmt.Errorf("%w (abort: %v)", err, aerr)
			}
		}
		return err
	}
	if err := h.producer.BeginTxn(); err != nil {
		return abort(fmt.Errorf("begin transaction: %w", err))
	}
	if err := h.producer.SendMessages(msgs); err != nil {
		return abort(fmt.Errorf("send dead letters: %w", err))
	}
	offsets := map[string][]*sarama.PartitionOffsetMetadata{
		last.Topic: {{Partition: last.Partition, Offset: last.Offset + 1, LeaderEpoch: -1}},
	}
	if err := h.producer.AddOffsetsToTxn(offsets, h.w.cfg.Group); err != nil {
		return abort(fmt.Errorf("add offsets to transaction: %w", err))
	}
	if err := h.producer.CommitTxn(); err != nil {
		return abort(fmt.Errorf("commit transaction: %w", err))
	}
	return nil
}

func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
