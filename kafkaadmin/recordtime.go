package kafkaadmin

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// RecordTimeRequest asks for the append time of the record at Offset.
type RecordTimeRequest struct {
	Topic     string
	Partition int32
	Offset    int64
	// Leader is the partition's leader broker (from the last Snapshot).
	Leader int32
	// Start is the log start offset, or OffsetUnknown: a request below it
	// reads the first record that still exists.
	Start int64
}

// RecordTime is the answer to one RecordTimeRequest.
type RecordTime struct {
	RecordTimeRequest
	// Found is the offset of the record whose time is reported: the first
	// data record at or after Offset (records may have been compacted away,
	// and transaction markers are skipped). -1 when no data record follows.
	Found int64
	// Timestamp is the record's time: the broker's append time when the
	// topic uses LogAppendTime, else the producer's create time.
	Timestamp time.Time
	Err       error
}

// Per-partition byte limits of the Fetch requests that read timestamps:
// small first (a few batches), larger for the batches that did not fit.
const (
	recordTimeSmallBytes = 32 << 10
	recordTimeLargeBytes = 1 << 20
)

// RecordTimes reads the timestamps of the records at the given offsets
// with one Fetch per leader broker (all leaders in parallel), plus one more
// per leader for partitions whose first batch did not fit. requests counts
// what was sent, by API.
func (c *Client) RecordTimes(ctx context.Context, reqs []RecordTimeRequest) (out []RecordTime, requests map[string]int) {
	rc := &roundCounter{m: map[string]int{}}
	byLeader := map[int32][]int{}
	out = make([]RecordTime, len(reqs))
	for i, r := range reqs {
		out[i] = RecordTime{RecordTimeRequest: r, Found: -1}
		if r.Start >= 0 && r.Offset < r.Start {
			out[i].Offset = r.Start
		}
		byLeader[r.Leader] = append(byLeader[r.Leader], i)
	}
	var wg sync.WaitGroup
	for leader, idx := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A Fetch names each partition once: several offsets on one
			// partition (several groups) go out in successive waves.
			for _, wave := range waves(out, idx) {
				partial := c.fetchTimes(ctx, rc, leader, out, wave, recordTimeSmallBytes)
				if len(partial) > 0 && ctx.Err() == nil {
					c.fetchTimes(ctx, rc, leader, out, partial, recordTimeLargeBytes)
				}
			}
		}()
	}
	wg.Wait()
	return out, rc.m
}

// waves splits idx so that no wave has a partition twice.
func waves(out []RecordTime, idx []int) [][]int {
	type tp struct {
		topic string
		p     int32
	}
	seen := map[tp]int{}
	var ws [][]int
	for _, i := range idx {
		k := tp{out[i].Topic, out[i].Partition}
		w := seen[k]
		seen[k] = w + 1
		if w == len(ws) {
			ws = append(ws, nil)
		}
		ws[w] = append(ws[w], i)
	}
	return ws
}

// errTooLarge marks a partition whose batch did not fit in the Fetch.
var errTooLarge = errors.New("record batch larger than the fetch limit")

// fetchTimes fills out[idx] from one Fetch to leader and returns the
// indexes whose batch did not fit.
func (c *Client) fetchTimes(ctx context.Context, rc *roundCounter, leader int32, out []RecordTime, idx []int, perPartition int32) []int {
	bc := c.broker(leader)
	if bc == nil {
		for _, i := range idx {
			out[i].Err = sarama.ErrLeaderNotAvailable
		}
		return nil
	}
	req := &sarama.FetchRequest{Version: 11, MaxWaitTime: 0, MinBytes: 1, SessionEpoch: -1,
		MaxBytes: int32(min(int64(perPartition)*int64(len(idx)), 50<<20))}
	if c.cfg.Isolation == ReadCommitted {
		req.Isolation = sarama.ReadCommitted
	}
	if !c.sconf.Version.IsAtLeast(sarama.V2_3_0_0) {
		req.Version = 10
	}
	for _, i := range idx {
		req.AddBlock(out[i].Topic, out[i].Partition, out[i].Offset, perPartition, -1)
	}
	rc.add("Fetch")
	resp, err := onLane(ctx, c, bc, laneEarliest, func(b *sarama.Broker) (*sarama.FetchResponse, error) { return b.Fetch(req) })
	if err != nil {
		for _, i := range idx {
			out[i].Err = err
		}
		return nil
	}
	var partial []int
	for _, i := range idx {
		rt := &out[i]
		blk := resp.GetBlock(rt.Topic, rt.Partition)
		switch {
		case blk == nil:
			rt.Err = errors.New("no answer for partition")
		case blk.Err != sarama.ErrNoError:
			rt.Err = blk.Err
		case blk.Partial:
			rt.Err = errTooLarge
			partial = append(partial, i)
		default:
			rt.Found, rt.Timestamp, rt.Err = firstRecordAt(blk.RecordsSet, rt.Offset), time.Time{}, nil
			if rt.Found >= 0 {
				rt.Timestamp = recordTimestamp(blk.RecordsSet, rt.Found)
			}
		}
	}
	sort.Ints(partial)
	return partial
}

// firstRecordAt returns the offset of the first data record at or after
// offset in the fetched record sets, or -1.
func firstRecordAt(sets []*sarama.Records, offset int64) int64 {
	best := int64(-1)
	visit(sets, func(off int64, _ time.Time) {
		if off >= offset && (best < 0 || off < best) {
			best = off
		}
	})
	return best
}

func recordTimestamp(sets []*sarama.Records, offset int64) time.Time {
	var ts time.Time
	visit(sets, func(off int64, t time.Time) {
		if off == offset {
			ts = t
		}
	})
	return ts
}

// visit calls fn for each data record (control batches skipped) with its
// offset and timestamp.
func visit(sets []*sarama.Records, fn func(int64, time.Time)) {
	for _, rs := range sets {
		if rs == nil {
			continue
		}
		if rb := rs.RecordBatch; rb != nil {
			if rb.Control {
				continue
			}
			for _, r := range rb.Records {
				ts := rb.FirstTimestamp.Add(r.TimestampDelta)
				if rb.LogAppendTime {
					ts = rb.MaxTimestamp
				}
				fn(rb.FirstOffset+r.OffsetDelta, ts)
			}
		}
		if ms := rs.MsgSet; ms != nil {
			for _, mb := range ms.Messages {
				if mb.Msg != nil {
					fn(mb.Offset, mb.Msg.Timestamp)
				}
			}
		}
	}
}
