// Package dense shares the read-only column of partition ids 0..n-1 that
// the carry (exporter) and the expiry tracker (exporter/expiry) use for
// dense commit columns. It imports nothing of the module.
package dense

import "sync/atomic"

// Iota returns the partition ids 0..n-1, read-only: dense columns of
// partition ids (the usual case: a group commits on every partition of its
// topics) share one array instead of 4 bytes per commit each. Its capacity
// is n, so an append copies it; callers never write into it.
func Iota(n int) []int32 {
	if p := cols.Load(); p != nil && len(*p) >= n {
		return (*p)[:n:n]
	}
	s := make([]int32, max(n, 1024))
	for i := range s {
		s[i] = int32(i)
	}
	cols.Store(&s) // racing stores are harmless: every version is valid
	return s[:n:n]
}

var cols atomic.Pointer[[]int32]
