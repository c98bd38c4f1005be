package lag

import (
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Sample is a partition's log end offset seen at a time.
type Sample struct {
	Offset int64
	At     time.Time
}

// EndHistory is a bounded window of a partition's log end offsets, one
// sample per poll, oldest first. Runs of equal offsets are compressed to
// their first and last sample: a quiet partition keeps its history for as
// long as it stays quiet, and the moment the end last moved stays known.
type EndHistory struct {
	Samples []Sample
}

// DefaultHistory is how many samples a partition keeps.
const DefaultHistory = 64

// Add appends a sample, compressing flat runs and dropping the oldest
// sample beyond max. A sample going backwards (topic recreated, unclean
// leader election) resets the history: the old samples describe another log.
func (h *EndHistory) Add(s Sample, max int) {
	n := len(h.Samples)
	if n > 0 && s.Offset < h.Samples[n-1].Offset {
		h.Samples = h.Samples[:0]
		n = 0
	}
	if n >= 2 && h.Samples[n-1].Offset == s.Offset && h.Samples[n-2].Offset == s.Offset {
		h.Samples[n-1] = s // extend the flat run
		return
	}
	h.Samples = append(h.Samples, s)
	if len(h.Samples) > max {
		h.Samples = append(h.Samples[:0], h.Samples[len(h.Samples)-max:]...)
	}
}

// interpolateAppendTime estimates when the record at offset was appended,
// from the end-offset history: the end was at most offset at one sample and
// beyond it at the next, so the record was appended between the two; the
// time is interpolated linearly by offset. ok is false when the history
// cannot tell (fewer than two samples, or offset is older than the window,
// or not yet appended).
func interpolateAppendTime(h []Sample, offset int64) (time.Time, bool) {
	if len(h) < 2 || offset < h[0].Offset || offset >= h[len(h)-1].Offset {
		return time.Time{}, false
	}
	// The record at offset exists once the end is > offset. Find the first
	// sample whose end is past it; the sample before it had end <= offset.
	for i := 1; i < len(h); i++ {
		if h[i].Offset > offset {
			a, b := h[i-1], h[i]
			// Offsets a.Offset .. b.Offset-1 were appended in (a.At, b.At].
			frac := float64(offset-a.Offset+1) / float64(b.Offset-a.Offset)
			return a.At.Add(time.Duration(frac * float64(b.At.Sub(a.At)))), true
		}
	}
	return time.Time{}, false
}

// TimeLag is the age, at now, of the record at the committed offset: how
// long ago the oldest record the group has not processed was appended.
// end is the current log end. It returns 0 (result.LagSourceCaughtUp) when
// the group is caught up, and result.LagSourceNone when the history cannot tell.
func TimeLag(h []Sample, end, committed int64, now time.Time) (time.Duration, result.LagSource) {
	if committed >= end {
		return 0, result.LagSourceCaughtUp
	}
	t, ok := interpolateAppendTime(h, committed)
	if !ok {
		return 0, result.LagSourceNone
	}
	return max(0, now.Sub(t)), result.LagSourceInterpolated
}
