package ha

import "hash/fnv"

// ShardOf is the shard (0 to p-1) of a group or topic name of a cluster:
// FNV-1a 64 of cluster, a NUL byte and name, modulo p. Every replica agrees
// on it without talking to the others; it never changes for a name.
func ShardOf(cluster, name string, p int) int32 {
	if p <= 1 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(cluster))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(name))
	return int32(h.Sum64() % uint64(p))
}
