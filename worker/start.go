package worker

import (
	"fmt"

	"github.com/IBM/sarama"
)

// startDecision says where a claimed partition starts and why.
type startDecision struct {
	committed int64 // committed offset, -1 if none
	oldest    int64 // log start offset
	newest    int64 // high watermark
	valid     bool  // committed offset usable
	start     int64 // where to start when !valid
}

// resolveStart decides the start of one partition. A committed offset is
// valid when it exists and lies within [oldest, newest]; only otherwise does
// the StartingPosition apply (seed 002: a group with a valid commit ignores
// StartingPosition).
func (h *handler) resolveStart(topic string, partition int32, committed int64) (startDecision, error) {
	d := startDecision{committed: committed}
	var err error
	if d.oldest, err = h.client.GetOffset(topic, partition, sarama.OffsetOldest); err != nil {
		return d, fmt.Errorf("log start of %s/%d: %w", topic, partition, err)
	}
	if d.newest, err = h.client.GetOffset(topic, partition, sarama.OffsetNewest); err != nil {
		return d, fmt.Errorf("log end of %s/%d: %w", topic, partition, err)
	}
	d.valid = committed >= 0 && committed >= d.oldest && committed <= d.newest
	if d.valid {
		d.start = committed
		return d, nil
	}
	switch h.w.cfg.StartingPosition {
	case Latest:
		d.start = d.newest
	case AtTimestamp:
		ts := h.w.cfg.StartingTimestamp.UnixMilli()
		off, err := h.client.GetOffset(topic, partition, ts)
		if err != nil {
			return d, fmt.Errorf("offset of %s/%d at %d ms: %w", topic, partition, ts, err)
		}
		if off < 0 { // no record at or after the timestamp: start at the end
			off = d.newest
		}
		d.start = off
	default: // TrimHorizon
		d.start = d.oldest
	}
	return d, nil
}

// Setup applies the StartingPosition to every claimed partition that has no
// valid committed offset, and commits that position, so that a restart
// before the first batch resumes from the same place.
func (h *handler) Setup(sess sarama.ConsumerGroupSession) error {
	claims := sess.Claims()
	resp, err := h.admin.ListConsumerGroupOffsets(h.w.cfg.Group, claims)
	if err != nil {
		return fmt.Errorf("fetch committed offsets of %s: %w", h.w.cfg.Group, err)
	}
	if resp.Err != sarama.ErrNoError && resp.Err != sarama.ErrGroupIDNotFound {
		return fmt.Errorf("fetch committed offsets of %s: %w", h.w.cfg.Group, resp.Err)
	}
	changed := false
	for topic, partitions := range claims {
		for _, p := range partitions {
			committed := int64(-1)
			if b := resp.GetBlock(topic, p); b != nil && b.Err == sarama.ErrNoError {
				committed = b.Offset
			}
			d, err := h.resolveStart(topic, p, committed)
			if err != nil {
				return err
			}
			if d.valid {
				h.log.Debug("resuming from committed offset", "topic", topic, "partition", p, "offset", committed)
				continue
			}
			h.log.Info("no valid committed offset, applying starting position",
				"topic", topic, "partition", p, "committed", committed, "log_start", d.oldest, "log_end", d.newest,
				"starting_position", h.w.cfg.StartingPosition, "start_offset", d.start)
			// MarkOffset only moves forward and ResetOffset only backward.
			if d.start > committed {
				sess.MarkOffset(topic, p, d.start, "")
			} else {
				sess.ResetOffset(topic, p, d.start, "")
			}
			changed = true
		}
	}
	if changed {
		sess.Commit()
	}
	n := 0
	for _, ps := range claims {
		n += len(ps)
	}
	h.w.setSession(n, sess.GenerationID(), true)
	h.w.setState(StateConsuming, nil, "generation", sess.GenerationID(), "member_id", sess.MemberID(), "partitions", n)
	return nil
}
