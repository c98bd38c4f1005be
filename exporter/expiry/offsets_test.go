package expiry

import (
	"fmt"
	"testing"

	"github.com/offsetlag/offsetlag/exporter/internal/dense"
)

// TestNormalizeCommits: an answer out of order, or naming a partition
// twice, is read as the map the tracker used to build from it: sorted by
// topic then partition, the last answer for a partition winning.
func TestNormalizeCommits(t *testing.T) {
	in := []partOffset{{"u", 1, 10}, {"t", 2, 20}, {"t", 0, 1}, {"u", 1, 11}, {"t", 2, 21}, {"a", 0, 0}}
	got := fmt.Sprint(normalizeCommits(in))
	if want := "[{a 0 0} {t 0 1} {t 2 21} {u 1 11}]"; got != want {
		t.Fatalf("normalized %s, want %s", got, want)
	}
	sorted := []partOffset{{"t", 0, 1}, {"t", 1, 2}}
	if got := fmt.Sprint(normalizeCommits(sorted)); got != "[{t 0 1} {t 1 2}]" {
		t.Fatalf("sorted answer changed: %s", got)
	}
}

// TestCommitOffsetsDenseShared: commits on partitions 0..n-1 share the
// read-only array of partition ids; moving to sparse commits and back
// never writes into it.
func TestCommitOffsetsDenseShared(t *testing.T) {
	var c, d commitOffsets
	c.set([]partOffset{{"t", 0, 5}, {"t", 1, 6}, {"t", 2, 7}})
	d.set([]partOffset{{"t", 0, 1}, {"t", 1, 2}})
	if !c.shared || !d.shared {
		t.Fatal("dense commits do not share the partition ids")
	}
	c.set([]partOffset{{"t", 1, 8}, {"t", 4, 9}})
	if c.shared || fmt.Sprint(c.asMap()) != "map[1:8 4:9]" {
		t.Fatalf("sparse commits read %v (shared %v)", c.asMap(), c.shared)
	}
	if fmt.Sprint(d.partitions(), dense.Iota(4)) != "[0 1] [0 1 2 3]" {
		t.Fatalf("shared partition ids written: %v %v", d.partitions(), dense.Iota(4))
	}
	c.set([]partOffset{{"t", 0, 3}})
	if off, ok := c.get(0); !c.shared || !ok || off != 3 || c.count() != 1 {
		t.Fatalf("dense again: %v shared %v", c.asMap(), c.shared)
	}
}
