package expiry

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"

	"github.com/offsetlag/offsetlag/exporter/internal/dense"
)

// commitOffsets are a group's last committed offsets on one topic, by
// partition: the partition ids sorted, and their offsets, in two columns
// (12 bytes a commit; the map[int32]int64 it replaces cost ~40, and was
// rebuilt for every group topic at every poll). The tracker rewrites them in
// place (set) when the commits move. They are persisted as the JSON object
// {"partition": offset, ...} the map was.
type commitOffsets struct {
	parts []int32
	offs  []int64
	// shared is true when parts is dense.Iota's array (not ours to write):
	// partitions 0..n-1 cost 8 bytes a commit.
	shared bool
}

// commitOffsetsOf returns the offsets of m.
func commitOffsetsOf(m map[int32]int64) commitOffsets {
	var c commitOffsets
	for _, p := range slices.Sorted(maps.Keys(m)) {
		c.parts = append(c.parts, p)
		c.offs = append(c.offs, m[p])
	}
	return c
}

// count is the number of partitions with a commit.
func (c commitOffsets) count() int { return len(c.parts) }

// IsZero reports whether there is no commit (for omitzero).
func (c commitOffsets) IsZero() bool { return len(c.parts) == 0 }

// get returns partition p's offset.
func (c commitOffsets) get(p int32) (int64, bool) {
	i, ok := slices.BinarySearch(c.parts, p)
	if !ok {
		return 0, false
	}
	return c.offs[i], true
}

// partitions are the partitions with a commit, sorted. The slice must not
// be modified.
func (c commitOffsets) partitions() []int32 { return c.parts }

// asMap returns the offsets as a map.
func (c commitOffsets) asMap() map[int32]int64 {
	m := make(map[int32]int64, len(c.parts))
	for i, p := range c.parts {
		m[p] = c.offs[i]
	}
	return m
}

// equal reports whether c holds exactly the commits of run.
func (c commitOffsets) equal(run []partOffset) bool {
	if len(run) != len(c.parts) {
		return false
	}
	for i, po := range run {
		if c.parts[i] != po.p || c.offs[i] != po.off {
			return false
		}
	}
	return true
}

// set makes c hold the commits of run (sorted by partition, no duplicate),
// reusing its columns.
func (c *commitOffsets) set(run []partOffset) {
	if c.shared {
		c.parts, c.shared = nil, false
	}
	c.parts, c.offs = c.parts[:0], c.offs[:0]
	if cap(c.offs) < len(run) { // sized once, not grown by appends
		c.offs = make([]int64, 0, len(run))
	}
	isDense := true
	for i, po := range run {
		c.offs = append(c.offs, po.off)
		isDense = isDense && po.p == int32(i)
	}
	if isDense {
		c.parts, c.shared = dense.Iota(len(run)), true
		return
	}
	if cap(c.parts) < len(run) {
		c.parts = make([]int32, 0, len(run))
	}
	for _, po := range run {
		c.parts = append(c.parts, po.p)
	}
}

// MarshalJSON writes the offsets as a JSON object keyed by partition.
func (c commitOffsets) MarshalJSON() ([]byte, error) { return json.Marshal(c.asMap()) }

// UnmarshalJSON reads a JSON object keyed by partition.
func (c *commitOffsets) UnmarshalJSON(b []byte) error {
	var m map[int32]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = commitOffsetsOf(m)
	return nil
}

// partOffset is one commit of a topic, while an answer is read.
type partOffset struct {
	topic string
	p     int32
	off   int64
}

// normalizeCommits sorts commits by topic then partition (stable: when a
// partition is answered twice, the last answer wins, as a map assignment
// would) and drops the duplicates. Answers come sorted; only then is
// nothing moved.
func normalizeCommits(cs []partOffset) []partOffset {
	less := func(a, b partOffset) int {
		if c := cmp.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return cmp.Compare(a.p, b.p)
	}
	if !slices.IsSortedFunc(cs, less) {
		slices.SortStableFunc(cs, less)
	}
	out := cs[:0]
	for i, c := range cs {
		if i+1 < len(cs) && less(c, cs[i+1]) == 0 {
			continue // a later answer for the same partition wins
		}
		out = append(out, c)
	}
	return out
}
