package status

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// scriptedTimer answers record-time reads from a deterministic function of
// the request and records every request, so that two trends
// implementations driven by the same polls can be compared request by
// request.
type scriptedTimer struct {
	seen [][]kafkaadmin.RecordTimeRequest
}

func (s *scriptedTimer) RecordTimes(_ context.Context, reqs []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int) {
	s.seen = append(s.seen, append([]kafkaadmin.RecordTimeRequest(nil), reqs...))
	out := make([]kafkaadmin.RecordTime, len(reqs))
	for i, r := range reqs {
		// Times stay within Unix nanoseconds (the exact cache keeps no
		// other) for the billions of records of randomPolls' big steps.
		off := r.Offset % 1e8
		out[i] = kafkaadmin.RecordTime{RecordTimeRequest: r, Found: r.Offset,
			Timestamp: time.Unix(1e9+off*7+int64(r.Partition), 0)}
		switch (r.Offset + int64(r.Partition)) % 11 {
		case 3:
			out[i].Err = errors.New("scripted read error")
		case 5:
			out[i].Found = -1
		}
	}
	return out, map[string]int{"Fetch": len(reqs)}
}

// randomPolls is a sequence of snapshots of a small, busy cluster:
// partitions that come and go, ends that move, stall, fail or go back,
// commits that advance, freeze, rewind or disappear, members that leave.
// With big, ends and commits also move by up to billions of records at
// once (lags beyond what the windows' 4-byte deltas hold: wide
// windows).
func randomPolls(rng *rand.Rand, polls int, big bool) []*kafkaadmin.Snapshot {
	const topics, groups = 4, 6
	ends := map[string][]int64{}
	commits := map[string]int64{}
	var out []*kafkaadmin.Snapshot
	for poll := 0; poll < polls; poll++ {
		s := &kafkaadmin.Snapshot{Cluster: "equiv"}
		for ti := 0; ti < topics; ti++ {
			name := fmt.Sprintf("t%d", ti)
			if rng.IntN(15) == 0 {
				delete(ends, name) // topic missing this poll
				continue
			}
			e := ends[name]
			n := 3 + rng.IntN(2) // partition count changes now and then
			for len(e) < n {
				e = append(e, int64(rng.IntN(50)))
			}
			t := kafkaadmin.Topic{Name: name}
			for p := 0; p < n; p++ {
				switch rng.IntN(10) {
				case 0: // quiet
				case 1:
					e[p] -= int64(rng.IntN(5)) // goes back (recreated)
				default:
					e[p] += int64(rng.IntN(40))
				}
				if big && rng.IntN(6) == 0 {
					e[p] += rng.Int64N(1 << 33)
				}
				part := kafkaadmin.Partition{ID: int32(p), Leader: int32(p % 3), Start: 0, End: e[p]}
				if rng.IntN(25) == 0 {
					part.End, part.EndErr = kafkaadmin.OffsetUnknown, errors.New("scripted end error")
				}
				t.Partitions = append(t.Partitions, part)
			}
			ends[name] = e
			s.Topics = append(s.Topics, t)
		}
		for gi := 0; gi < groups; gi++ {
			g := kafkaadmin.Group{Name: fmt.Sprintf("g%d", gi), Type: kafkaadmin.GroupClassic, State: "Empty"}
			if rng.IntN(3) > 0 {
				g.State = "Stable"
				g.Members = []kafkaadmin.Member{{ID: "m"}}
			}
			if rng.IntN(30) == 0 {
				g.FetchErr = errors.New("scripted fetch error")
			}
			for _, t := range s.Topics {
				if (gi+int(t.Name[1]))%3 == 0 {
					continue
				}
				for _, p := range t.Partitions {
					k := fmt.Sprintf("%s/%s/%d", g.Name, t.Name, p.ID)
					c := commits[k]
					switch rng.IntN(8) {
					case 0: // frozen
					case 1:
						c -= int64(rng.IntN(10)) // rewind
					case 2:
						if rng.IntN(4) == 0 {
							continue // no commit this poll
						}
					default:
						c += int64(rng.IntN(45))
					}
					if big {
						switch n := rng.IntN(200); {
						case n < 60:
							c += rng.Int64N(1 << 29) // drifts past an int32 in a few polls
						case n < 63:
							c += 1<<33 + rng.Int64N(1<<33) // spans more than an int32 at once
						case n < 65:
							c -= rng.Int64N(1 << 34) // rewinds far
						}
					}
					c = max(c, 0)
					commits[k] = c
					g.Offsets = append(g.Offsets, kafkaadmin.CommittedOffset{Topic: t.Name, Partition: p.ID, Offset: c})
				}
			}
			s.Groups = append(s.Groups, g)
		}
		out = append(out, s)
	}
	return out
}

// TestTrendsMatchReference drives the ring-based trends and the reference
// (the implementation before rings and the bounded exact selection) with
// the same random polls in every time-lag mode, window and budget, and
// requires identical results: time lag and its source, statuses, rates,
// and the exact reads requested (same partitions, same order).
func TestTrendsMatchReference(t *testing.T) {
	for _, mode := range []string{modeInterpolate, modeExact, modeHybrid} {
		for _, window := range []int{minWindow, 5, defaultStatusWindow} {
			for _, budget := range []int{0, 1, 4, 1000} {
				for _, big := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/window=%d/budget=%d/big=%v", mode, window, budget, big), func(t *testing.T) {
						var opts Config
						opts.SetDefaults()
						opts.TimeLag.Mode, opts.TimeLag.ExactBudget, opts.TimeLag.ExactAboveRecords = mode, budget, 30
						opts.Status.Window = window
						rng := rand.New(rand.NewPCG(uint64(window), uint64(budget+10)))
						got, want := newTrends(opts), newRefTrends(opts)
						gotT, wantT := &scriptedTimer{}, &scriptedTimer{}
						now := time.Unix(1e9+5000, 0)
						for i, snap := range randomPolls(rng, 120, big) {
							now = now.Add(time.Duration(10+rng.IntN(40)) * time.Second)
							// The exporter computes groups from a snapshot whose
							// unread ends are carried from earlier polls, and hands
							// trends the raw one: here some ends are missing from
							// the raw snapshot the groups were computed with.
							g1, g2 := groupsOf(snap), groupsOf(snap)
							raw := rawOf(snap, rng)
							r1 := got.apply(context.Background(), raw, g1, now, gotT.RecordTimes)
							r2 := want.apply(context.Background(), raw, g2, now, wantT.RecordTimes)
							if !reflect.DeepEqual(g1, g2) {
								t.Fatalf("poll %d: groups differ\n got %+v\nwant %+v", i, g1, g2)
							}
							if !reflect.DeepEqual(r1, r2) {
								t.Fatalf("poll %d: requests %v, want %v", i, r1, r2)
							}
						}
						if !reflect.DeepEqual(gotT.seen, wantT.seen) {
							t.Fatalf("exact reads differ:\n got %v\nwant %v", gotT.seen, wantT.seen)
						}
						if mode != modeInterpolate && budget > 0 && len(wantT.seen) == 0 {
							t.Fatal("no exact read was requested: the scenario does not exercise the selection")
						}
						if big && !widened(got) {
							t.Fatal("no window turned wide: the scenario does not exercise 8-byte windows")
						}
					})
				}
			}
		}
	}
}

// rawOf is snap with about one end offset in ten unread, as the poll that
// read it saw it before carrying (exporter carry.go).
func rawOf(snap *kafkaadmin.Snapshot, rng *rand.Rand) *kafkaadmin.Snapshot {
	raw := *snap
	raw.Topics = make([]kafkaadmin.Topic, len(snap.Topics))
	for i, t := range snap.Topics {
		t.Partitions = append([]kafkaadmin.Partition(nil), t.Partitions...)
		for pi := range t.Partitions {
			if rng.IntN(10) == 0 {
				t.Partitions[pi].End, t.Partitions[pi].EndErr = kafkaadmin.OffsetUnknown, errors.New("scripted: not read this poll")
			}
		}
		raw.Topics[i] = t
	}
	return &raw
}

// widened reports whether some group topic's windows hold full offsets.
func widened(tr *trends) bool {
	for _, tw := range tr.windows {
		if tw.wide != nil {
			return true
		}
	}
	return false
}
