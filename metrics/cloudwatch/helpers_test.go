package cloudwatch_test

import (
	"fmt"
	"time"

	"github.com/offsetlag/offsetlag/exporter"
)

// synthResult is one cluster polled at ts with group g1 on topic t1 (the
// given number of partitions, partition p lagging by p+1) and on topic t2
// (one partition without a known lag), and group g2 on t1 with one
// partition out of range.
func synthResult(cluster string, ts time.Time, partitions int) *exporter.Result {
	t1 := exporter.GroupTopicResult{Topic: "t1"}
	for p := 0; p < partitions; p++ {
		lag := int64(p + 1)
		t1.Partitions = append(t1.Partitions, exporter.PartitionLag{Partition: int32(p), Committed: 100, End: 100 + lag, Lag: lag, HasLag: true})
		t1.SumLag += lag
		t1.MaxLag = max(t1.MaxLag, lag)
	}
	t2 := exporter.GroupTopicResult{Topic: "t2", Partitions: []exporter.PartitionLag{{Partition: 0, Committed: 5}}}
	g2t := exporter.GroupTopicResult{Topic: "t1", SumLag: 7, MaxLag: 7, OutOfRange: 1, RecordsLost: 3,
		Partitions: []exporter.PartitionLag{{Partition: 0, Committed: 2, End: 9, Lag: 7, HasLag: true, OutOfRange: true, RecordsLost: 3}}}
	return &exporter.Result{Generated: ts, Clusters: []exporter.ClusterResult{{
		Name: cluster, Up: true, LastPoll: ts, LastSuccess: ts,
		Groups: []exporter.GroupResult{
			{Name: "g1", SumLag: t1.SumLag, MaxLag: t1.MaxLag, Topics: []exporter.GroupTopicResult{t1, t2}},
			{Name: "g2", SumLag: 7, MaxLag: 7, OutOfRange: 1, Topics: []exporter.GroupTopicResult{g2t}},
		},
	}}}
}

func uniqueName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }
