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
// per leader when needed: for a first batch that did not fit, or offsets
// the first Fetch did not reach. A Fetch names each partition once, from
// the lowest offset asked on it: the other offsets on the partition
// (several groups) are answered from the same records when they are in
// them. An offset that neither Fetch reached gets ErrRecordNotReached (it
// is read on a later poll). requests counts what was sent, by API.
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
		wg.Go(func() {
			pending := c.fetchTimes(ctx, rc, leader, out, idx, recordTimeSmallBytes, false)
			if len(pending) > 0 && ctx.Err() == nil {
				pending = c.fetchTimes(ctx, rc, leader, out, pending, recordTimeLargeBytes, true)
			}
			for _, i := range pending {
				if out[i].Err == nil {
					out[i].Err = ErrRecordNotReached
				}
			}
		})
	}
	wg.Wait()
	return out, rc.m
}

// ErrRecordNotReached is the error of a RecordTime whose offset lies beyond
// the records this poll's Fetches returned for its partition (another,
// lower offset on the same partition was read first).
var ErrRecordNotReached = errors.New("record not reached by this poll's fetches")

// errTooLarge marks a partition whose batch did not fit in the Fetch.
var errTooLarge = errors.New("record batch larger than the fetch limit")

// fetchTimes fills out[idx] from one Fetch to leader, each partition read
// from the lowest offset idx asks on it, and returns the indexes left to
// read: offsets past the records returned, and the first batch of a
// partition when it did not fit. last: no Fetch follows (what did not fit
// keeps errTooLarge).
func (c *Client) fetchTimes(ctx context.Context, rc *roundCounter, leader int32, out []RecordTime, idx []int, perPartition int32, last bool) []int {
	bc := c.broker(leader)
	if bc == nil {
		for _, i := range idx {
			out[i].Err = sarama.ErrLeaderNotAvailable
		}
		return nil
	}
	type tp struct {
		topic string
		p     int32
	}
	starts := map[tp]int64{}
	var order []tp
	for _, i := range idx {
		k := tp{out[i].Topic, out[i].Partition}
		if at, ok := starts[k]; !ok {
			starts[k] = out[i].Offset
			order = append(order, k)
		} else if out[i].Offset < at {
			starts[k] = out[i].Offset
		}
	}
	req := &sarama.FetchRequest{Version: 11, MaxWaitTime: 0, MinBytes: 1, SessionEpoch: -1,
		MaxBytes: int32(min(int64(perPartition)*int64(len(order)), 50<<20))}
	if c.cfg.Isolation == ReadCommitted {
		req.Isolation = sarama.ReadCommitted
	}
	if !c.sconf.Version.IsAtLeast(sarama.V2_3_0_0) {
		req.Version = 10
	}
	for _, k := range order {
		req.AddBlock(k.topic, k.p, starts[k], perPartition, -1)
	}
	rc.add("Fetch")
	resp, err := onLane(ctx, c, bc, laneEarliest, func(b *sarama.Broker) (*sarama.FetchResponse, error) { return b.Fetch(req) })
	if err != nil {
		for _, i := range idx {
			out[i].Err = err
		}
		return nil
	}
	var pending []int
	for _, i := range idx {
		rt := &out[i]
		blk := resp.GetBlock(rt.Topic, rt.Partition)
		start := starts[tp{rt.Topic, rt.Partition}]
		switch {
		case blk == nil:
			rt.Err = errors.New("no answer for partition")
		case blk.Err != sarama.ErrNoError:
			rt.Err = blk.Err
		case blk.Partial:
			switch {
			case rt.Offset == start:
				rt.Err = errTooLarge
			case last:
				rt.Err = ErrRecordNotReached
			}
			if !last {
				pending = append(pending, i)
			}
		default:
			end := blk.HighWaterMarkOffset
			if c.cfg.Isolation == ReadCommitted && blk.LastStableOffset >= 0 {
				end = blk.LastStableOffset
			}
			found := firstRecordAt(blk.RecordsSet, rt.Offset)
			switch {
			case found >= 0:
				rt.Found, rt.Timestamp, rt.Err = found, recordTimestamp(blk.RecordsSet, found), nil
			case rt.Offset == start || rt.Offset >= end:
				// Read from this very offset (or at the end): no data
				// record follows it.
				rt.Found, rt.Timestamp, rt.Err = -1, time.Time{}, nil
			default:
				pending = append(pending, i) // beyond the records returned
			}
		}
	}
	sort.Ints(pending)
	return pending
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
