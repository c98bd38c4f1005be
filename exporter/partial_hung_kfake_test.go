package exporter_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
)

// TestFaultHungCoordinator: one of three brokers stops answering (every
// request to it sleeps past the poll deadline) for 8 polls. Groups whose
// coordinator is healthy keep correct series on every scrape; the hung
// broker's partitions and groups are carried from their last good read
// for at most poll.stale-after, then dropped, and correct again after.
func TestFaultHungCoordinator(t *testing.T) {
	const interval = 300 * time.Millisecond
	const staleAfter = exporter.DefaultStaleAfterPolls * interval
	r := newFaultRig(t, exporter.Options{Config: exporter.PollEvery(interval, interval)})
	// One group per coordinator: groups until every broker coordinates
	// one.
	byCoord := map[int32]string{}
	for i := 0; len(byCoord) < 3 && i < 200; i++ {
		name := fmt.Sprintf("grp-%d", i)
		if _, ok := byCoord[r.c.CoordinatorFor(name)]; !ok {
			byCoord[r.c.CoordinatorFor(name)] = name
			r.commit(name, "t", map[int32]int64{0: 2, 1: 2, 2: 2, 3: 2})
		}
	}
	if len(byCoord) != 3 {
		t.Fatalf("groups cover coordinators %v, want 3", byCoord)
	}
	hung := int32(1)
	// The hung broker leads no partition of t (so the healthy groups' lag
	// depends only on healthy brokers) and leads u/0 (whose log end is
	// carried, then dropped).
	for p := int32(0); p < 4; p++ {
		if r.c.LeaderFor("t", p) == hung {
			if err := r.c.MoveTopicPartition("t", p, otherNode(hung)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.c.CreateTopic("u", 1, nil); err != nil {
		t.Fatal(err)
	}
	if r.c.LeaderFor("u", 0) != hung {
		if err := r.c.MoveTopicPartition("u", 0, hung); err != nil {
			t.Fatal(err)
		}
	}
	r.c.Reconnect(t)
	r.produce("u", 0, 5)
	var frozen atomic.Bool
	r.c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		r.c.KeepControl()
		if frozen.Load() && r.c.CurrentNode() == hung {
			r.c.SleepControl(func() { time.Sleep(2 * time.Second) })
		}
		return nil, nil, false
	})
	want := func(group string) map[int32]int64 {
		m := map[int32]int64{}
		for p, e := range r.end["t"] {
			m[int32(p)] = e - 2
		}
		return m
	}
	base := r.pollUntilUp()
	goodRead := base.OldestRead

	frozen.Store(true)
	polls, failed, partial, healthyLost, hungCarried, hungDropped, wrong := 0, 0, 0, 0, 0, 0, 0
	uCarried, uDropped := 0, 0
	for i := 0; i < 8; i++ {
		cr, _ := r.poll()
		polls++
		readNothing := false
		switch {
		case cr.Up:
		case strings.Contains(cr.LastError, "requests failed"):
			partial++
		default:
			failed++ // no broker answered Metadata: the last result is served as it is
			readNothing = true
		}
		uEnd := r.seriesWith("offsetlag_partition_end_offset", `topic="u"`)
		switch age := cr.LastPoll.Sub(goodRead); {
		case readNothing:
		case age <= staleAfter && len(uEnd) == 1:
			uCarried++
		case age > staleAfter && len(uEnd) == 0:
			uDropped++
		default:
			t.Errorf("poll %d: end offset series of u/0 (led by the hung broker) %v with data %s old, stale after %s", i, uEnd, age, staleAfter)
		}
		for coord, g := range byCoord {
			series := r.seriesWith("offsetlag_consumergroup_lag{", `group="`+g+`"`)
			if coord != hung {
				if len(series) != 4 || r.wantLag(cr, g, "t", want(g)) != nil {
					healthyLost++
					t.Errorf("poll %d: group %s (healthy coordinator %d): %d lag series, %v", i, g, coord, len(series), r.wantLag(cr, g, "t", want(g)))
				}
				continue
			}
			gr, ok := resulttest.Group(&cr, g)
			switch {
			case ok && cr.LastPoll.Sub(gr.ReadAt) <= staleAfter:
				hungCarried++
				if r.wantLag(cr, g, "t", want(g)) != nil {
					wrong++
					t.Errorf("poll %d: carried group %s: %v", i, g, r.wantLag(cr, g, "t", want(g)))
				}
			case ok && readNothing:
				hungCarried++
			case ok:
				t.Errorf("poll %d: group %s served from a read %s old, beyond stale-after %s", i, g, cr.LastPoll.Sub(gr.ReadAt), staleAfter)
			default:
				hungDropped++
			}
		}
	}
	frozen.Store(false)
	var recoveredAfter int
	for i := 1; i <= 20 && recoveredAfter == 0; i++ {
		cr, _ := r.poll()
		ok := cr.Up
		for _, g := range byCoord {
			ok = ok && r.wantLag(cr, g, "t", want(g)) == nil
		}
		if ok {
			recoveredAfter = i
		}
	}
	if recoveredAfter == 0 {
		t.Fatal("not correct within 20 polls after the broker answered again")
	}
	if uCarried == 0 || uDropped == 0 {
		t.Errorf("u/0's end offset carried on %d polls, dropped on %d: want both", uCarried, uDropped)
	}
	t.Logf("hung broker %d for %d polls: %d failed (nothing read), %d partial; healthy-coordinator groups lost series on %d polls; the hung coordinator's group carried on %d polls, dropped on %d; u/0 end carried on %d, dropped on %d (stale after %s); correct %d polls after", hung, polls, failed, partial, healthyLost, hungCarried, hungDropped, uCarried, uDropped, staleAfter, recoveredAfter)
	reliabilityRow(t, "one of three brokers hung (every request sleeps 2 s; interval and timeout 300 ms) for 8 polls",
		"groups of healthy coordinators keep correct series on every scrape; the hung broker's data carried (correct) for at most poll.stale-after, then absent; correct after it answers again",
		fmt.Sprintf("%d polls: %d read nothing, %d partial; healthy-coordinator groups lost their series on %d polls; the hung coordinator's group carried on %d polls (%d wrong values), absent on %d; the hung broker's partition end carried on %d, absent on %d; correct %d poll(s) after it answered again (its abandoned 2 s requests finish first)", polls, failed, partial, healthyLost, hungCarried, wrong, hungDropped, uCarried, uDropped, recoveredAfter))
}
