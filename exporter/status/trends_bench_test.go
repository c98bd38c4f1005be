package status

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/lag"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// groupsOf is the lag of every group of snap, computed as the poll loop
// does (lag.Compute) on a copy of its Groups slice: Compute takes the
// commits it reads, and snap is used again.
func groupsOf(snap *kafkaadmin.Snapshot) []result.GroupResult {
	own := *snap
	own.Groups = slices.Clone(snap.Groups)
	_, groups := lag.Compute(&own)
	return groups
}

// benchSnapshot is the bench suite's size M: topics x 100 partitions,
// groups each committed on 2 topics (200 offsets per group).
func benchSnapshot(topics, groups int) *kafkaadmin.Snapshot {
	s := &kafkaadmin.Snapshot{Cluster: "bench"}
	for ti := 0; ti < topics; ti++ {
		t := kafkaadmin.Topic{Name: fmt.Sprintf("topic-%04d", ti)}
		for p := int32(0); p < 100; p++ {
			t.Partitions = append(t.Partitions, kafkaadmin.Partition{ID: p, Leader: p % 3, Start: 0, End: 1000 + int64(p)})
		}
		s.Topics = append(s.Topics, t)
	}
	for g := 0; g < groups; g++ {
		gr := kafkaadmin.Group{Name: fmt.Sprintf("group-%05d", g), Type: kafkaadmin.GroupClassic, State: "Empty",
			ProtocolType: "consumer"}
		for k := 0; k < 2; k++ {
			ti := (g + k*37) % topics
			for p := int32(0); p < 100; p++ {
				gr.Offsets = append(gr.Offsets, kafkaadmin.CommittedOffset{Topic: s.Topics[ti].Name, Partition: p,
					Offset: 990 + int64(p%20)})
			}
		}
		s.Groups = append(s.Groups, gr)
	}
	return s
}

// failingTimer fails every record-time read: nothing is cached, so every
// poll selects its exact reads among all the lagging partitions again (the
// worst case for the selection).
type failingTimer struct{}

func (failingTimer) RecordTimes(_ context.Context, reqs []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int) {
	out := make([]kafkaadmin.RecordTime, len(reqs))
	for i, r := range reqs {
		out[i] = kafkaadmin.RecordTime{RecordTimeRequest: r, Err: errors.New("bench: not read")}
	}
	return out, map[string]int{"Fetch": 1}
}

// trendsApplier is the ring-based trends or the reference implementation
// (trends_ref_test.go), measured side by side in one run.
type trendsApplier interface {
	apply(ctx context.Context, snap *kafkaadmin.Snapshot, groups []result.GroupResult, now time.Time, exact recordTimes) map[string]int
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTrendsApply is one poll's trends (end histories, time lag,
// status windows, rates) at size M: 10,000 partitions, 500 groups, 100,000
// committed offsets, at steady state (the status window has filled), for
// the ring-based implementation and the reference one it replaced. Besides
// ns/op it reports the process CPU time per poll (cpu-ns/op, from rusage:
// the machine is shared, so wall time is noisy). "interpolate" has no
// exact reads; "exact-failing" makes all 100,000 lagging partitions
// candidates for the 1,000 exact reads every poll.
//
//	go test -run '^$' -bench TrendsApply -benchmem -count 6 ./exporter/
func BenchmarkTrendsApply(b *testing.B) {
	snap := benchSnapshot(100, 500)
	for _, sc := range []struct {
		name  string
		mode  string
		timer recordTimes
	}{
		{"interpolate", modeInterpolate, nil},
		{"exact-failing", modeExact, failingTimer{}.RecordTimes},
	} {
		for _, impl := range []string{"ring", "reference"} {
			b.Run(sc.name+"/"+impl, func(b *testing.B) {
				var opts Config
				opts.SetDefaults()
				opts.TimeLag.Mode = sc.mode
				var tr trendsApplier = newTrends(opts)
				if impl == "reference" {
					tr = newRefTrends(opts)
				}
				now := time.Unix(1e9, 0)
				for i := 0; i < defaultStatusWindow+2; i++ { // steady state: windows full
					tr.apply(context.Background(), snap, groupsOf(snap), now, sc.timer)
					now = now.Add(30 * time.Second)
				}
				var cpu time.Duration
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					groups := groupsOf(snap) // apply writes into groups; start from fresh ones
					now = now.Add(30 * time.Second)
					c0 := cpuTime()
					b.StartTimer()
					tr.apply(context.Background(), snap, groups, now, sc.timer)
					cpu += cpuTime() - c0
				}
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// BenchmarkTrendsMemory reports the bytes the trends keep between polls
// (live heap after a GC) at size M at steady state, per committed offset.
func BenchmarkTrendsMemory(b *testing.B) {
	snap := benchSnapshot(100, 500)
	for _, impl := range []string{"ring", "reference"} {
		b.Run(impl, func(b *testing.B) {
			for b.Loop() {
				var opts Config
				opts.SetDefaults()
				before := liveHeap()
				var tr trendsApplier = newTrends(opts)
				if impl == "reference" {
					tr = newRefTrends(opts)
				}
				now := time.Unix(1e9, 0)
				for i := 0; i < defaultStatusWindow+2; i++ {
					tr.apply(context.Background(), snap, groupsOf(snap), now, nil)
					now = now.Add(30 * time.Second)
				}
				b.ReportMetric(float64(liveHeap()-before)/100000, "retained-B/commit")
				keep(tr)
			}
		})
	}
}

var kept any

func keep(v any) { kept = v }

func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// BenchmarkComputeGroups is the lag math of one poll at size M (500
// groups x 2 topics x 100 partitions; lag.Compute, log bounds included):
// the per-topic partitions sized at once instead of grown by append. The
// copy of the Groups slice Compute takes is made with the timer stopped.
func BenchmarkComputeGroups(b *testing.B) {
	snap := benchSnapshot(100, 500)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		own := *snap
		own.Groups = slices.Clone(snap.Groups)
		b.StartTimer()
		topics, groups := lag.Compute(&own)
		keep(topics)
		keep(groups)
	}
}
