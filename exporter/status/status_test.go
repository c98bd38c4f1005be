package status

import (
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// obs builds a window from (committed, end) pairs, one poll every 30 s.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func obs(pairs ...[2]int64) []observation {
	out := make([]observation, len(pairs))
	for i, p := range pairs {
		out[i] = observation{At: at(30 * i), Committed: p[0], End: p[1]}
	}
	return out
}

func TestEvaluatePartition(t *testing.T) {
	tests := []struct {
		name    string
		obs     []observation
		members int
		want    result.Status
	}{
		{"no observations", nil, 1, result.StatusOK},
		{"caught up", obs([2]int64{10, 10}, [2]int64{20, 20}, [2]int64{30, 30}), 1, result.StatusOK},
		{"keeping up with steady lag", obs([2]int64{10, 15}, [2]int64{20, 25}, [2]int64{30, 35}), 1, result.StatusOK},
		{"falling behind", obs([2]int64{10, 15}, [2]int64{15, 25}, [2]int64{20, 35}), 1, result.StatusWarn},
		{"too few polls to judge", obs([2]int64{10, 15}, [2]int64{10, 25}), 1, result.StatusOK},
		{"commits frozen with members", obs([2]int64{10, 15}, [2]int64{10, 25}, [2]int64{10, 35}), 2, result.StatusStall},
		{"commits frozen without members", obs([2]int64{10, 15}, [2]int64{10, 15}, [2]int64{10, 15}), 0, result.StatusStop},
		{"commit moved back", obs([2]int64{10, 15}, [2]int64{4, 15}, [2]int64{15, 15}), 1, result.StatusRewind},
		{"frozen but caught up is fine", obs([2]int64{10, 10}, [2]int64{10, 10}, [2]int64{10, 10}), 0, result.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := evaluatePartition(tt.obs, tt.members); got != tt.want {
				t.Errorf("evaluatePartition = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestComputeRates(t *testing.T) {
	// Two partitions over 60 s: ends +600 and +0; commits +900 and +0.
	w := [][]observation{
		obs([2]int64{0, 1000}, [2]int64{450, 1300}, [2]int64{900, 1600}),
		obs([2]int64{5, 5}, [2]int64{5, 5}, [2]int64{5, 5}),
	}
	r := computeRates(w)
	if !r.Valid || r.Produce != 10 || r.Consume != 15 {
		t.Fatalf("rates = %+v, want produce 10/s consume 15/s", r)
	}
	// Lag 700, gaining 5 records/s: 140 s.
	if !r.CatchUpKnown || r.CatchUp != 140*time.Second {
		t.Errorf("catch up = %s (known %v), want 140s", r.CatchUp, r.CatchUpKnown)
	}
	losing := computeRates([][]observation{obs([2]int64{0, 100}, [2]int64{10, 200})})
	if losing.CatchUpKnown {
		t.Errorf("a consumer slower than the producer got a catch-up time: %+v", losing)
	}
	if computeRates([][]observation{obs([2]int64{0, 100})}).Valid {
		t.Error("one observation gave rates")
	}
}
