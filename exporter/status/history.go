package status

import (
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// sample is a partition's log end offset seen at a time.
type sample struct {
	Offset int64
	At     time.Time
}

// endHistory is a bounded window of a partition's log end offsets, one
// sample per poll, oldest first: the memory interpolated time lag is read
// from. Runs of equal offsets are compressed to
// their first and last sample: a quiet partition keeps its history for as
// long as it stays quiet, and the moment the end last moved stays known.
type endHistory struct {
	samples []sample
}

// historyLen is how many samples a partition keeps.
const historyLen = 64

// record appends the end offset seen at a time (one sample per poll).
func (h *endHistory) record(offset int64, at time.Time) {
	h.add(sample{Offset: offset, At: at}, historyLen)
}

// add appends a sample, compressing flat runs and dropping the oldest
// sample beyond max. A sample going backwards (topic recreated, unclean
// leader election) resets the history: the old samples describe another log.
func (h *endHistory) add(s sample, max int) {
	n := len(h.samples)
	if n > 0 && s.Offset < h.samples[n-1].Offset {
		h.samples = h.samples[:0]
		n = 0
	}
	if n >= 2 && h.samples[n-1].Offset == s.Offset && h.samples[n-2].Offset == s.Offset {
		h.samples[n-1] = s // extend the flat run
		return
	}
	h.samples = append(h.samples, s)
	if len(h.samples) > max {
		h.samples = append(h.samples[:0], h.samples[len(h.samples)-max:]...)
	}
}

// interpolateAppendTime estimates when the record at offset was appended,
// from the end-offset history: the end was at most offset at one sample and
// beyond it at the next, so the record was appended between the two; the
// time is interpolated linearly by offset. ok is false when the history
// cannot tell (fewer than two samples, or offset is older than the window,
// or not yet appended).
func interpolateAppendTime(h []sample, offset int64) (time.Time, bool) {
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

// timeLag is the age, at now, of the record at the committed offset: how
// long ago the oldest record the group has not processed was appended,
// interpolated from the history (nil: none yet). end is the current log
// end. It returns 0 (result.LagSourceCaughtUp) when
// the group is caught up, and result.LagSourceNone when the history cannot tell.
func (h *endHistory) timeLag(end, committed int64, now time.Time) (time.Duration, result.LagSource) {
	if committed >= end {
		return 0, result.LagSourceCaughtUp
	}
	var samples []sample
	if h != nil {
		samples = h.samples
	}
	t, ok := interpolateAppendTime(samples, committed)
	if !ok {
		return 0, result.LagSourceNone
	}
	return max(0, now.Sub(t)), result.LagSourceInterpolated
}
