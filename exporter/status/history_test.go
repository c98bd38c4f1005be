package status

import (
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// history builds an endHistory from (second, end offset) pairs.
func history(pairs ...[2]int64) *endHistory {
	h := &endHistory{}
	for _, p := range pairs {
		h.record(p[1], at(int(p[0])))
	}
	return h
}

func TestEndHistoryCompressesFlatRuns(t *testing.T) {
	h := history([2]int64{0, 10}, [2]int64{30, 20}, [2]int64{60, 20}, [2]int64{90, 20}, [2]int64{120, 20}, [2]int64{150, 25})
	// 10@0, 20@30 (first of the run), 20@120 (last of the run), 25@150.
	want := []sample{{10, at(0)}, {20, at(30)}, {20, at(120)}, {25, at(150)}}
	if len(h.samples) != len(want) {
		t.Fatalf("samples = %v, want %v", h.samples, want)
	}
	for i := range want {
		if h.samples[i].Offset != want[i].Offset || !h.samples[i].At.Equal(want[i].At) {
			t.Errorf("sample %d = %v, want %v", i, h.samples[i], want[i])
		}
	}
}

func TestEndHistoryBoundedAndResetOnShrink(t *testing.T) {
	h := &endHistory{}
	for i := 0; i < 100; i++ {
		h.add(sample{Offset: int64(i), At: at(i)}, 8)
	}
	if len(h.samples) != 8 || h.samples[0].Offset != 92 {
		t.Errorf("bounded window = %v", h.samples)
	}
	h.add(sample{Offset: 3, At: at(200)}, 8)
	if len(h.samples) != 1 {
		t.Errorf("after the end went backwards (topic recreated) = %v, want only the new sample", h.samples)
	}
}

func TestTimeLag(t *testing.T) {
	steady := history([2]int64{0, 0}, [2]int64{30, 300}, [2]int64{60, 600}, [2]int64{90, 900}) // 10 rec/s
	tests := []struct {
		name      string
		h         *endHistory
		end       int64
		committed int64
		now       time.Time
		want      time.Duration
		source    result.LagSource
	}{
		// Record 600 was appended at 60.1 s (600..899 between 60 and 90 s).
		{"steady producer", steady, 900, 600, at(90), 29*time.Second + 900*time.Millisecond, result.LagSourceInterpolated},
		{"caught up", steady, 900, 900, at(90), 0, result.LagSourceCaughtUp},
		{"commit older than the window", steady, 900, -5, at(90), 0, result.LagSourceNone},
		{"one sample only", history([2]int64{0, 10}), 10, 4, at(0), 0, result.LagSourceNone},
		// Quiet topic, consumer caught up: 0 however long it stays quiet.
		{"quiet and caught up", history([2]int64{0, 50}, [2]int64{30, 60}, [2]int64{3600, 60}), 60, 60, at(7200), 0, result.LagSourceCaughtUp},
		// Quiet topic, consumer stopped at 55: records 50..59 came between
		// 0 and 30 s; record 55 at 18 s; an hour later it is 3582 s old.
		{"quiet, consumer behind", history([2]int64{0, 50}, [2]int64{30, 60}, [2]int64{3600, 60}), 60, 55, at(3600), 3582 * time.Second, result.LagSourceInterpolated},
		// Burst: 10,000 records between 60 and 90 s after a quiet minute;
		// record 100, the first of the burst, is placed just after 60 s.
		{"burst", history([2]int64{0, 100}, [2]int64{60, 100}, [2]int64{90, 10100}), 10100, 100, at(90), 29*time.Second + 997*time.Millisecond, result.LagSourceInterpolated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src := tt.h.timeLag(tt.end, tt.committed, tt.now)
			if src != tt.source {
				t.Fatalf("source = %q, want %q", src, tt.source)
			}
			if d := got - tt.want; d > time.Millisecond || d < -time.Millisecond {
				t.Errorf("time lag = %s, want %s", got, tt.want)
			}
		})
	}
}
