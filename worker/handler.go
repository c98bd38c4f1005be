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
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/backoff"
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

// Cleanup implements sarama.ConsumerGroupHandler: the session's claims are
// released (shutdown or rebalance).
func (h *handler) Cleanup(sess sarama.ConsumerGroupSession) error {
	h.w.setSession(0, 0, false)
	h.w.setState(StateJoining, nil, "generation_ended", sess.GenerationID())
	return nil
}

// ConsumeClaim batches one partition's records: a batch is closed when it
// holds BatchSize records or BatchWindow after its first record, and handed
// to the partition's processor goroutine, which stores, dead-letters and
// commits batches one at a time, in order. The claim loop keeps reading
// while a batch is being stored (one closed batch may wait for the
// processor), so a slow store does not hold up fetching for sarama's
// MaxProcessingTime on every fetch. When the session ends (shutdown or
// rebalance) the batches in hand are finished and committed before
// returning.
func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	cfg := h.w.cfg
	topic, partition := claim.Topic(), claim.Partition()
	log := h.log.With("topic", topic, "partition", partition)
	log.Info("partition claimed", "initial_offset", claim.InitialOffset())
	lagLabels := []string{topic, strconv.Itoa(int(partition))}
	defer h.w.metrics.OffsetLag.DeleteLabelValues(lagLabels...)

	// The processor: one batch at a time, in offset order. After a batch
	// could not be settled (the session ended during its retries) no later
	// batch is processed, so nothing is committed past an unsettled record.
	queue := make(chan []*sarama.ConsumerMessage, 1)
	var stopped atomic.Bool
	procDone := make(chan struct{})
	// The committer: a settled batch's offset is marked at once and
	// committed by this goroutine, so the next batch's store write does not
	// wait for the OffsetCommit (which queues behind a fetch long poll on
	// the broker connection). Requests coalesce; only offsets of settled
	// batches are ever marked.
	commitReq := make(chan struct{}, 1)
	commitDone := make(chan struct{})
	go func() {
		defer close(commitDone)
		for range commitReq {
			sess.Commit()
			h.w.metrics.Commits.Inc()
		}
	}()
	requestCommit := func() {
		if h.w.cfg.TransactionalID != "" {
			// With transactions, a plain OffsetCommit overlapping the next
			// batch's transaction (which commits offsets of the same group)
			// slowed each transaction to seconds on Kafka 4.1: commit before
			// the next batch, as before.
			sess.Commit()
			h.w.metrics.Commits.Inc()
			return
		}
		select {
		case commitReq <- struct{}{}:
		default: // a commit is pending: it will carry this offset
		}
	}
	go func() {
		defer close(procDone)
		for batch := range queue {
			if stopped.Load() {
				continue
			}
			if err := h.process(sess, batch, requestCommit, log); err != nil {
				stopped.Store(true)
				continue
			}
			next := batch[len(batch)-1].Offset + 1
			h.w.metrics.OffsetLag.WithLabelValues(lagLabels...).Set(float64(max(0, claim.HighWaterMarkOffset()-next)))
		}
	}()
	defer func() {
		close(queue)
		<-procDone
		close(commitReq)
		<-commitDone
		sess.Commit() // whatever the last batches marked, before the claim is released
	}()

	batch := make([]*sarama.ConsumerMessage, 0, cfg.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var window <-chan time.Time
	// hand passes the batch to the processor; it waits while the processor
	// is busy and one batch is already waiting.
	hand := func() {
		queue <- batch
		batch, window = make([]*sarama.ConsumerMessage, 0, cfg.BatchSize), nil
	}
	for sess.Context().Err() == nil && !stopped.Load() {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				if len(batch) > 0 {
					hand()
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
				hand()
			}
		case <-window:
			hand()
		case <-sess.Context().Done():
		}
	}
	if len(batch) > 0 && !stopped.Load() {
		log.Info("session ending: finishing in-flight batch", "records", len(batch))
		hand()
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
// what cannot be stored, then mark the batch's last offset and ask for a
// commit. It returns errStopping if the session ended before the batch was
// settled; the batch is then not marked.
func (h *handler) process(sess sarama.ConsumerGroupSession, batch []*sarama.ConsumerMessage, commit func(), log *slog.Logger) error {
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

	stored := len(results)
	if len(results) > 0 {
		failed, err := h.storeWithRetry(sess.Context(), batch[0], results, start, log)
		if err != nil {
			return err // errStopping
		}
		for _, f := range failed {
			dead = append(dead, deadLetter{msg: resultMsgs[f.index], reason: f.reason, detail: f.err.Error()})
		}
		stored -= len(failed)
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
	m.Records.WithLabelValues("stored").Add(float64(stored))
	sess.MarkMessage(batch[len(batch)-1], "")
	commit()
	log.Debug("batch settled", "records", len(batch), "stored", stored, "dead_lettered", len(dead),
		"next_offset", batch[len(batch)-1].Offset+1)
	return nil
}

// storeFailure is a result that could not be stored: its index in the
// batch's results, the dead-letter reason and the last error.
type storeFailure struct {
	index  int
	reason string
	err    error
}

// storeGroup is a subset of a batch's results (indices) still to be stored
// and the failed attempts counted against the retry quota.
type storeGroup struct {
	idx      []int
	attempts int
}

// storeWithRetry writes results and returns the ones that could not be
// stored, or errStopping if the session ended while waiting to retry.
//
// A failed write is retried, with exponential backoff, for only the
// results that failed: all of them for a plain error, the ones the store
// named for a *store.PartialError (partial batch response). With
// BisectOnError a plain error of several results splits them in two halves
// that are written separately, down to single results, without backoff and
// without counting against MaxRetries (as Lambda's BisectBatchOnFunctionError
// does), so one poison record fails alone. A result is given up on once its
// group failed MaxRetries+1 times or the batch's oldest record is older
// than MaxRecordAge.
func (h *handler) storeWithRetry(sessCtx context.Context, first *sarama.ConsumerMessage, results []store.Result, start time.Time, log *slog.Logger) ([]storeFailure, error) {
	cfg, m := h.w.cfg, h.w.metrics
	all := make([]int, len(results))
	for i := range all {
		all[i] = i
	}
	work := []storeGroup{{idx: all}}
	lastErr := make(map[int]error)
	var failed []storeFailure
	giveUp := func(g storeGroup, reason string) {
		for _, i := range g.idx {
			failed = append(failed, storeFailure{index: i, reason: reason, err: lastErr[i]})
		}
	}
	sub := make([]store.Result, 0, len(results))
	for calls := 0; len(work) > 0; calls++ {
		g := work[0]
		work = work[1:]
		if calls > 0 {
			start = h.w.now()
		}
		sub = sub[:0]
		for _, i := range g.idx {
			sub = append(sub, results[i])
		}
		m.Invocations.Inc()
		// The write outlives a shutdown signal so the in-flight batch can finish.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(sessCtx), cfg.StoreTimeout)
		err := h.w.store.Put(ctx, sub)
		cancel()
		m.Duration.Observe(h.w.now().Sub(start).Seconds())
		if err == nil {
			continue
		}
		m.Errors.Inc()
		if rest, ok := partialFailure(err, g.idx, lastErr); ok {
			// Only the results the store named failed; the others are stored.
			log.Warn("store wrote part of the batch", "records", len(g.idx), "failed", len(rest), "err", err)
			g.idx = rest
		} else {
			for _, i := range g.idx {
				lastErr[i] = err
			}
			if cfg.BisectOnError && len(g.idx) > 1 {
				half := len(g.idx) / 2
				m.Bisections.Inc()
				log.Warn("store failed, bisecting", "records", len(g.idx), "halves", []int{half, len(g.idx) - half}, "err", err)
				work = append([]storeGroup{{idx: g.idx[:half], attempts: g.attempts}, {idx: g.idx[half:], attempts: g.attempts}}, work...)
				continue
			}
		}
		g.attempts++
		if cfg.MaxRetries >= 0 && g.attempts > cfg.MaxRetries {
			log.Warn("store failed, retries exhausted: dead-lettering", "attempts", g.attempts, "records", len(g.idx), "err", err)
			giveUp(g, ReasonRetriesExhausted)
			continue
		}
		if cfg.MaxRecordAge > 0 && !first.Timestamp.IsZero() && h.w.now().Sub(first.Timestamp) > cfg.MaxRecordAge {
			log.Warn("store failed, record age exceeded: dead-lettering", "attempts", g.attempts, "records", len(g.idx), "err", err)
			for _, i := range g.idx {
				lastErr[i] = fmt.Errorf("oldest record older than %s: %w", cfg.MaxRecordAge, lastErr[i])
			}
			giveUp(g, ReasonRecordAgeExceeded)
			continue
		}
		wait := backoff.Exponential{Min: cfg.RetryBackoff, Max: cfg.MaxRetryBackoff}.Delay(g.attempts)
		log.Warn("store failed, retrying", "attempt", g.attempts, "records", len(g.idx), "backoff", wait, "err", err)
		if !backoff.Sleep(sessCtx, wait) {
			return nil, errStopping
		}
		work = append([]storeGroup{g}, work...)
	}
	for i := range failed {
		failed[i].err = fmt.Errorf("store failed: %w", failed[i].err)
	}
	return failed, nil
}

// partialFailure narrows idx to the results a *store.PartialError named as
// failed, recording their errors in lastErr; ok is false for any other error
// (or a partial error that names none or more results than were written).
func partialFailure(err error, idx []int, lastErr map[int]error) (rest []int, ok bool) {
	var pe *store.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) == 0 || len(pe.Failed) > len(idx) {
		return nil, false
	}
	rest = make([]int, 0, len(pe.Failed))
	for j, i := range idx {
		if ferr, ok := pe.Failed[j]; ok {
			lastErr[i] = ferr
			rest = append(rest, i)
		}
	}
	return rest, true
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
	wait := backoff.Exponential{Min: cfg.RetryBackoff, Max: cfg.MaxRetryBackoff}
	send := h.producer.SendMessages
	if cfg.TransactionalID != "" {
		send = func(msgs []*sarama.ProducerMessage) error { return h.sendInTxn(msgs, last) }
	}
	for failures := 1; ; failures++ {
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
		if !backoff.Sleep(sessCtx, wait.Delay(failures)) {
			return errStopping
		}
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
