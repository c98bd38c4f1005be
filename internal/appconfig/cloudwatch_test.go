package appconfig

import (
	"testing"
	"time"
)

func TestCloudWatchConfig(t *testing.T) {
	base := []string{"--kafka.brokers", "b:9092", "--kafka.cluster-name", "prod"}
	t.Run("defaults: off", func(t *testing.T) {
		c := mustLoad(t, base, nil)
		cw := c.CloudWatch
		if cw.Mode != CloudWatchOff || cw.Namespace != "offsetlag" || cw.StorageResolution != 60 || cw.PartitionMetrics ||
			cw.MaxMetrics != 5000 || cw.PublishPeriod != time.Minute || cw.InvalidNames != "map" || cw.QueueSize != 10 || cw.Protocol != "default" || cw.EMFOutput != "stdout" ||
			cw.FlushTimeout != 10*time.Second {
			t.Fatalf("defaults %+v", cw)
		}
	})
	t.Run("flags and environment", func(t *testing.T) {
		c := mustLoad(t, append(base, "--cloudwatch.mode", "api", "--cloudwatch.partition-metrics",
			"--cloudwatch.storage-resolution", "1", "--cloudwatch.protocol", "json"),
			[]string{"OFFSETLAG_CLOUDWATCH_NAMESPACE=team/lag", "OFFSETLAG_CLOUDWATCH_MAX_METRICS=100",
				"OFFSETLAG_CLOUDWATCH_ENDPOINT=http://127.0.0.1:5000"})
		cw := c.CloudWatch
		if cw.Mode != "api" || !cw.PartitionMetrics || cw.StorageResolution != 1 || cw.Protocol != "json" ||
			cw.Namespace != "team/lag" || cw.MaxMetrics != 100 || cw.Endpoint != "http://127.0.0.1:5000" {
			t.Fatalf("%+v", cw)
		}
		po := cw.PublisherOptions()
		if !po.PartitionMetrics || po.MaxMetrics != 100 || po.Namespace != "team/lag" {
			t.Fatalf("publisher options %+v", po)
		}
	})
	t.Run("deprecated max-datums-per-poll", func(t *testing.T) {
		c := mustLoad(t, append(base, "--cloudwatch.mode", "api", "--cloudwatch.max-datums-per-poll", "300"), nil)
		if po := c.CloudWatch.PublisherOptions(); po.MaxMetrics != 300 {
			t.Fatalf("budget %d, want 300", po.MaxMetrics)
		}
	})
	t.Run("Cluster Name from the MSK ARN", func(t *testing.T) {
		c := mustLoad(t, append(base, "--cloudwatch.mode", "api", "--kafka.cluster-name", "prod",
			"--kafka.msk-cluster-arn", "arn:aws:kafka:us-east-1:123456789012:cluster/analytics/0e4d4f5c-1111-2222-3333-444455556666-2"), nil)
		if got := c.CloudWatchClusterNames(); got["prod"] != "analytics" || len(got) != 1 {
			t.Fatalf("cluster names %v", got)
		}
	})
	wantLoadErrors(t, base, []badArgs{
		{"mode", []string{"--cloudwatch.mode", "sns"}, "cloudwatch.mode"},
		{"AWS namespace", []string{"--cloudwatch.mode", "api", "--cloudwatch.namespace", "AWS/Kafka"}, "cloudwatch.namespace"},
		{"protocol", []string{"--cloudwatch.mode", "api", "--cloudwatch.protocol", "cbor2"}, "cloudwatch.protocol"},
		{"resolution", []string{"--cloudwatch.mode", "emf", "--cloudwatch.storage-resolution", "30"}, "cloudwatch.storage-resolution"},
		{"queue", []string{"--cloudwatch.mode", "api", "--cloudwatch.queue-size", "0"}, "cloudwatch.queue-size"},
		{"budget", []string{"--cloudwatch.mode", "api", "--cloudwatch.max-metrics", "-1"}, "cloudwatch.max-metrics"},
		{"publish period", []string{"--cloudwatch.mode", "api", "--cloudwatch.publish-period", "-1s"}, "cloudwatch.publish-period"},
		{"invalid names", []string{"--cloudwatch.mode", "api", "--cloudwatch.invalid-names", "keep"}, "cloudwatch.invalid-names"},
		{"msk arn", []string{"--cloudwatch.mode", "emf", "--kafka.msk-cluster-arn", "arn:aws:kafka:us-east-1:1:topic/x"}, "msk-cluster-arn"},
		{"no cluster name", []string{"--cloudwatch.mode", "api", "--kafka.cluster-name", "default"}, "set kafka.cluster-name"},
	})
}
