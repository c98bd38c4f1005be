package status

import (
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// observation is one poll's view of a group's partition.
type observation struct {
	At        time.Time
	Committed int64
	End       int64
}

// Lag is the observation's lag, clamped at 0.
func (o observation) Lag() int64 { return result.Lag(o.End, o.Committed) }

// minWindow is how many observations the trend rules (WARN, STALL, STOP)
// need; with fewer a lagging partition is OK until proven otherwise.
const minWindow = 3

// evaluatePartition applies the rules, in order, to a partition's window
// of observations (oldest first) and the group's member count:
//
//  1. REWIND: the committed offset moved backwards within the window.
//  2. OK: the latest lag is 0.
//  3. STOP: the committed offset did not move over the whole window (at
//     least minWindow observations), lag > 0, and the group has no members:
//     nobody is consuming.
//  4. STALL: the same with members: a consumer is there but not progressing.
//  5. WARN: lag grew at every step of the window (at least minWindow
//     observations) while commits moved: the consumer is falling behind.
//  6. OK otherwise.
func evaluatePartition(obs []observation, members int) result.Status {
	n := len(obs)
	if n == 0 {
		return result.StatusOK
	}
	for i := 1; i < n; i++ {
		if obs[i].Committed < obs[i-1].Committed {
			return result.StatusRewind
		}
	}
	last := obs[n-1]
	if last.Lag() == 0 {
		return result.StatusOK
	}
	if n < minWindow {
		return result.StatusOK
	}
	if obs[0].Committed == last.Committed {
		if members == 0 {
			return result.StatusStop
		}
		return result.StatusStall
	}
	growing := true
	for i := 1; i < n; i++ {
		if obs[i].Lag() <= obs[i-1].Lag() {
			growing = false
			break
		}
	}
	if growing {
		return result.StatusWarn
	}
	return result.StatusOK
}

// rates are records per second over a window, and the time the consumer
// needs to catch up at those rates.
type rates struct {
	// Produce is the log end's growth, Consume the commits' progress, in
	// records per second. Valid is false with fewer than two observations
	// or no time between them.
	Produce, Consume float64
	Valid            bool
	// CatchUp is lag / (Consume - Produce) when the consumer is gaining;
	// CatchUpKnown is false when it is not (it never catches up at these
	// rates) or is already caught up (CatchUp 0, known).
	CatchUp      time.Duration
	CatchUpKnown bool
}

// computeRates sums per-partition windows of one group+topic into rates.
// Each window is oldest first; partitions with fewer than two observations
// are left out.
func computeRates(windows [][]observation) rates {
	var dEnd, dCommit, lag int64
	var span time.Duration
	for _, w := range windows {
		if len(w) < 2 {
			continue
		}
		first, last := w[0], w[len(w)-1]
		dEnd += last.End - first.End
		dCommit += last.Committed - first.Committed
		lag += last.Lag()
		span = max(span, last.At.Sub(first.At))
	}
	return ratesFrom(dEnd, dCommit, lag, span)
}

// ratesFrom turns the sums of computeRates (end and commit progress, the
// latest lag, the longest span) into Rates; trends.go sums its rings
// itself and calls it directly.
func ratesFrom(dEnd, dCommit, lag int64, span time.Duration) rates {
	if span <= 0 {
		return rates{}
	}
	r := rates{Valid: true, Produce: float64(dEnd) / span.Seconds(), Consume: float64(dCommit) / span.Seconds()}
	switch {
	case lag == 0:
		r.CatchUpKnown = true
	case r.Consume > r.Produce:
		r.CatchUp = time.Duration(float64(lag) / (r.Consume - r.Produce) * float64(time.Second))
		r.CatchUpKnown = true
	}
	return r
}

// statusOf returns the status named name (0 for "" or an unknown name): a
// group's status as set before the rules ran (ERR by exporter/lag when its
// offsets could not be read).
func statusOf(name string) result.Status {
	for _, st := range result.Statuses {
		if st.String() == name {
			return st
		}
	}
	return 0
}
