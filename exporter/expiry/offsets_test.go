package expiry

import (
	"fmt"
	"testing"
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
