package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Compat names a set of families served in addition to the native ones,
// under another exporter's names and labels, so that dashboards and alerts
// written for it keep working.
type Compat string

const (
	// CompatNone serves only the native offsetlag_* families (the default).
	CompatNone Compat = "none"
	// CompatKafkaExporter adds the consumer-group and partition families of
	// danielqsj/kafka_exporter (kafka_consumergroup_lag{consumergroup,
	// topic,partition}, kafka_consumergroup_lag_sum, ...), from the same
	// data and with our semantics: no -1 series, lag clamped at 0, and a
	// cluster_name label kafka_exporter does not have (README "kafka_exporter
	// compatibility" lists every difference).
	CompatKafkaExporter Compat = "kafka_exporter"
)

// Labels of the kafka_exporter families.
const labelConsumerGroup = "consumergroup"

// compatFamilies are the kafka_exporter families (nil unless enabled).
type compatFamilies struct {
	compatOn bool
	// Per cluster, per topic, per topic partition.
	keBrokers, keTopicPartitions, keTopicCurrent, keTopicOldest *family
	// Per group, group+topic, group partition.
	keMembers, keLagSum, keCurrentSum, keLag, keCurrent *family
}

// newCompatFamilies creates the kafka_exporter families. The per-partition
// ones exist only at GranularityPartition, like the native ones.
func (c *Collector) newCompatFamilies() {
	c.compatOn = true
	var (
		gauge = prometheus.GaugeValue
		cl    = []string{labelCluster}
		t     = []string{labelCluster, labelTopic}
		tp    = []string{labelCluster, labelTopic, labelPartition}
		g     = []string{labelCluster, labelConsumerGroup}
		gt    = []string{labelCluster, labelConsumerGroup, labelTopic}
		gp    = []string{labelCluster, labelConsumerGroup, labelTopic, labelPartition}
	)
	const note = " kafka_exporter-compatible name (metrics.compat=kafka_exporter); same data as the offsetlag_ families, as of the last poll."
	c.keBrokers = c.newFamily("kafka_brokers", gauge,
		"Number of brokers in the cluster's metadata."+note+" Native: offsetlag_brokers.", cl)
	c.keTopicPartitions = c.newFamily("kafka_topic_partitions", gauge,
		"Number of partitions of the topic."+note, t)
	c.keMembers = c.newFamily("kafka_consumergroup_members", gauge,
		"Members of the consumer group."+note+" Native: offsetlag_consumergroup_members.", g)
	c.keLagSum = c.newFamily("kafka_consumergroup_lag_sum", gauge,
		"Sum of the group's lag over the topic's committed partitions (at least 0)."+note+" Native: offsetlag_consumergroup_topic_sum_lag.", gt)
	c.keCurrentSum = c.newFamily("kafka_consumergroup_current_offset_sum", gauge,
		"Sum of the group's committed offsets over the topic's committed partitions (partitions without a commit count for nothing, not -1)."+note, gt)
	if c.perPartition {
		c.keTopicCurrent = c.newFamily("kafka_topic_partition_current_offset", gauge,
			"Log end offset (high watermark) of the partition."+note+" Native: offsetlag_partition_end_offset.", tp)
		c.keTopicOldest = c.newFamily("kafka_topic_partition_oldest_offset", gauge,
			"Log start offset of the partition."+note+" Native: offsetlag_partition_start_offset.", tp)
		c.keLag = c.newFamily("kafka_consumergroup_lag", gauge,
			"Records the group is behind on the partition (log end minus committed, at least 0); absent, not -1, without a commit."+note+" Native: offsetlag_consumergroup_lag.", gp)
		c.keCurrent = c.newFamily("kafka_consumergroup_current_offset", gauge,
			"Offset the group committed on the partition; absent, not -1, without a commit."+note+" Native: offsetlag_consumergroup_committed_offset.", gp)
	}
}

// walkCompat emits one cluster's kafka_exporter series from the same
// values as the native families, under the same conditions (a value the
// native family leaves out is left out here too).
func (c *Collector) walkCompat(s sink, cluster string, cr *result.ClusterResult) {
	if !c.compatOn {
		return
	}
	var lv [4]string
	lv[0] = cluster
	if !cr.LastSuccess.IsZero() {
		s.emit(c.keBrokers, float64(cr.Brokers), lv[:1])
	}
	for ti := range cr.Topics {
		t := &cr.Topics[ti]
		lv[1] = validLabel(t.Name)
		s.emit(c.keTopicPartitions, float64(len(t.Partitions)), lv[:2])
		if !c.perPartition {
			continue
		}
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if !p.HasStart && !p.HasEnd {
				continue
			}
			lv[2] = s.partition(p.Partition)
			if p.HasEnd {
				s.emit(c.keTopicCurrent, float64(p.End), lv[:3])
			}
			if p.HasStart {
				s.emit(c.keTopicOldest, float64(p.Start), lv[:3])
			}
		}
	}
	for gi := range cr.Groups {
		g := &cr.Groups[gi]
		lv[1] = validLabel(g.Name)
		s.emit(c.keMembers, float64(g.Members), lv[:2])
		for ti := range g.Topics {
			lv[2] = validLabel(g.Topics[ti].Topic)
			c.walkCompatGroupTopic(s, &g.Topics[ti], lv)
		}
	}
}

// walkCompatGroupTopic emits kafka_exporter's series of one group+topic; lv
// holds cluster, group, topic.
func (c *Collector) walkCompatGroupTopic(s sink, t *result.GroupTopicResult, lv [4]string) {
	var committedSum int64
	committed, hasLag := false, false
	for pi := range t.Partitions {
		p := &t.Partitions[pi]
		if p.Committed >= 0 {
			committed = true
			committedSum += p.Committed
		}
		hasLag = hasLag || p.HasLag
		if !c.perPartition || (p.Committed < 0 && !p.HasLag) {
			continue
		}
		lv[3] = s.partition(p.Partition)
		if p.Committed >= 0 {
			s.emit(c.keCurrent, float64(p.Committed), lv[:4])
		}
		if p.HasLag {
			s.emit(c.keLag, float64(max(p.Lag, 0)), lv[:4])
		}
	}
	if committed {
		s.emit(c.keCurrentSum, float64(committedSum), lv[:3])
	}
	// As offsetlag_consumergroup_topic_sum_lag: unknown, not 0,
	// without any known lag.
	if hasLag {
		s.emit(c.keLagSum, float64(max(t.SumLag, 0)), lv[:3])
	}
}
