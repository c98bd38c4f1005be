package cloudwatch_test

import (
	"fmt"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// synthResult is one cluster polled at ts with group g1 on topic t1 (the
// given number of partitions, partition p lagging by p+1) and on topic t2
// (one partition without a known lag), and group g2 on t1 with one
// partition out of range.
func synthResult(cluster string, ts time.Time, partitions int) *result.Result {
	t1 := result.GroupTopicResult{Topic: "t1"}
	for p := 0; p < partitions; p++ {
		lag := int64(p + 1)
		t1.Partitions = append(t1.Partitions, result.PartitionLag{Partition: int32(p), Committed: 100, End: 100 + lag, Lag: lag, HasLag: true})
		t1.SumLag += lag
		t1.MaxLag = max(t1.MaxLag, lag)
	}
	t2 := result.GroupTopicResult{Topic: "t2", Partitions: []result.PartitionLag{{Partition: 0, Committed: 5}}}
	g2t := result.GroupTopicResult{Topic: "t1", SumLag: 7, MaxLag: 7, OutOfRange: 1, RecordsLost: 3,
		Partitions: []result.PartitionLag{{Partition: 0, Committed: 2, End: 9, Lag: 7, HasLag: true, OutOfRange: true, RecordsLost: 3}}}
	return &result.Result{Generated: ts, Clusters: []result.ClusterResult{{
		Name: cluster, Up: true, LastPoll: ts, LastSuccess: ts,
		Groups: []result.GroupResult{
			{Name: "g1", SumLag: t1.SumLag, MaxLag: t1.MaxLag, Topics: []result.GroupTopicResult{t1, t2}},
			{Name: "g2", SumLag: 7, MaxLag: 7, OutOfRange: 1, Topics: []result.GroupTopicResult{g2t}},
		},
	}}}
}

func uniqueName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }
