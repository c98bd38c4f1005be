package statuspage

import (
	"sync"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Point is one poll's lag totals of a group.
type Point struct {
	Time   time.Time `json:"time"`
	SumLag int64     `json:"sum_lag"`
	// MaxLagSeconds is null when no partition had a time lag.
	MaxLagSeconds *float64 `json:"max_lag_seconds"`
}

// ring is a fixed-size buffer of the latest points, oldest overwritten.
type ring struct {
	buf  []Point
	next int
	full bool
}

func (r *ring) add(p Point) {
	r.buf[r.next] = p
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// points returns a copy, oldest first.
func (r *ring) points() []Point {
	if !r.full {
		return append([]Point(nil), r.buf[:r.next]...)
	}
	out := make([]Point, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

type groupKey struct{ cluster, group string }

// history keeps the last size points of at most maxGroups groups. Safe for
// concurrent use.
type history struct {
	size, maxGroups int

	mu      sync.Mutex
	last    map[string]time.Time // cluster -> LastSuccess recorded
	groups  map[groupKey]*ring
	dropped int // groups not tracked because maxGroups was reached
}

func newHistory(size, maxGroups int) *history {
	return &history{size: size, maxGroups: maxGroups, last: map[string]time.Time{}, groups: map[groupKey]*ring{}}
}

// record appends a point per group of every cluster polled successfully
// since the last call, and forgets groups and clusters no longer listed.
func (h *history) record(r *result.Result) {
	if r == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	clusters := make(map[string]bool, len(r.Clusters))
	for i := range r.Clusters {
		c := &r.Clusters[i]
		clusters[c.Name] = true
		if c.LastSuccess.IsZero() || !c.LastSuccess.After(h.last[c.Name]) {
			continue
		}
		h.last[c.Name] = c.LastSuccess
		listed := make(map[string]bool, len(c.Groups))
		// Groups only the expiry tracker still reports (offsets expired,
		// no longer listed) keep their points, frozen, so that their chart
		// shows the lag up to the end; they go when the tracker forgets them.
		for j := range c.Expiry {
			if !c.Expiry[j].Present {
				listed[c.Expiry[j].Group] = true
			}
		}
		for j := range c.Groups {
			g := &c.Groups[j]
			listed[g.Name] = true
			k := groupKey{c.Name, g.Name}
			rg := h.groups[k]
			if rg == nil {
				if len(h.groups) >= h.maxGroups {
					h.dropped++
					continue
				}
				rg = &ring{buf: make([]Point, h.size)}
				h.groups[k] = rg
			}
			p := Point{Time: c.LastSuccess, SumLag: g.SumLag}
			if g.HasLagSeconds {
				v := g.MaxLagSeconds
				p.MaxLagSeconds = &v
			}
			rg.add(p)
		}
		for k := range h.groups {
			if k.cluster == c.Name && !listed[k.group] {
				delete(h.groups, k)
			}
		}
	}
	for k := range h.groups {
		if !clusters[k.cluster] {
			delete(h.groups, k)
		}
	}
	for name := range h.last {
		if !clusters[name] {
			delete(h.last, name)
		}
	}
}

// points returns a group's points, oldest first (nil when none).
func (h *history) points(cluster, group string) []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rg := h.groups[groupKey{cluster, group}]; rg != nil {
		return rg.points()
	}
	return nil
}
