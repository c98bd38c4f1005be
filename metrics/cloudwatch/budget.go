package cloudwatch

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
)

// applyBudget keeps at most budget datums (distinct metrics: a publish
// carries one datum per metric) across every cluster of a publish and
// returns the kept ones in their original order and the cut ones.
// budget <= 0 keeps all.
//
// Order of keeping: by Priority (cluster and group totals, then
// group+topic, then optional group+topic families, then partitions); within a
// priority by Score, highest first (the lag; at-risk group+topics first);
// ties by a hash of the dimension values salted with epoch, so that the
// choice among equals is stable for one epoch (the caller passes the hour:
// one billing hour) and rotates between epochs instead of always favouring
// the same names.
func applyBudget(ds []Datum, budget int, epoch int64) (kept, cut []Datum) {
	if budget <= 0 || len(ds) <= budget {
		return ds, nil
	}
	idx := make([]int, len(ds))
	tie := make([]uint64, len(ds))
	for i := range idx {
		idx[i] = i
		tie[i] = identityHash(&ds[i], epoch)
	}
	sort.Slice(idx, func(a, b int) bool {
		x, y := &ds[idx[a]], &ds[idx[b]]
		if x.Priority != y.Priority {
			return x.Priority > y.Priority
		}
		if x.Score != y.Score {
			return x.Score > y.Score
		}
		if tie[idx[a]] != tie[idx[b]] {
			return tie[idx[a]] < tie[idx[b]]
		}
		return idx[a] < idx[b]
	})
	keep := make([]bool, len(ds))
	for _, i := range idx[:budget] {
		keep[i] = true
	}
	kept = make([]Datum, 0, budget)
	cut = make([]Datum, 0, len(ds)-budget)
	for i := range ds {
		if keep[i] {
			kept = append(kept, ds[i])
		} else {
			cut = append(cut, ds[i])
		}
	}
	return kept, cut
}

// identityHash hashes a datum's dimension values with a salt: the datums
// of one group+topic (or partition) tie together and stay together.
func identityHash(d *Datum, salt int64) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(salt >> (8 * i))
	}
	h.Write(b[:])
	for _, dim := range d.Dimensions {
		h.Write([]byte{0})
		h.Write([]byte(dim.Value))
	}
	return h.Sum64()
}

// cutSummary describes what the budget cut: per priority and metric name
// the count, and a few group+topics whose group+topic metrics were cut.
// key changes only when the set of (priority, metric) cut changes.
func cutSummary(cut []Datum) (summary, key string) {
	type pm struct {
		p    Priority
		name string
	}
	counts := map[pm]int{}
	var examples []string
	seen := map[string]bool{}
	for i := range cut {
		d := &cut[i]
		counts[pm{d.Priority, d.Name}]++
		if d.Priority >= PriorityGroupTopic && len(examples) < 5 {
			var vs []string
			for _, dim := range d.Dimensions {
				vs = append(vs, dim.Value)
			}
			e := strings.Join(vs, "/")
			if !seen[e] {
				seen[e] = true
				examples = append(examples, e)
			}
		}
	}
	keys := make([]pm, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].p != keys[b].p {
			return keys[a].p > keys[b].p
		}
		return keys[a].name < keys[b].name
	})
	var parts, kparts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %s: %d", k.p, k.name, counts[k]))
		kparts = append(kparts, fmt.Sprintf("%d/%s", k.p, k.name))
	}
	summary = strings.Join(parts, ", ")
	if len(examples) > 0 {
		summary += "; e.g. " + strings.Join(examples, ", ")
	}
	return summary, strings.Join(kparts, ",")
}
