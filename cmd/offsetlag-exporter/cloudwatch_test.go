package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/mototest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// runExporter runs the binary's main loop on a seeded kfake cluster with
// extra flags and returns the /metrics URL and a stop function that
// returns the exit code.
func runExporter(t *testing.T, extra ...string) (string, func() int) {
	t.Helper()
	cluster := kfaketest.New(t, kfake.SeedTopics(3, "t"))
	seed(t, cluster)
	webPort := testenv.FreePorts(t, 1)[0]
	m := startRun(t, append([]string{"--kafka.brokers", strings.Join(cluster.ListenAddrs(), ","), "--poll.interval", "300ms",
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", webPort)}, extra...)...)
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", webPort), func() int { return m.stop(t, 20*time.Second) }
}

var sentRE = regexp.MustCompile(`(?m)^offsetlag_cloudwatch_datums_sent_total ([0-9.e+]+)$`)

// With cloudwatch.mode api, polls reach CloudWatch (moto), the
// self-metrics are on /metrics, and shutdown flushes.
func TestCloudWatchAPIMode(t *testing.T) {
	ep := mototest.Start(t)
	mototest.HermeticAWSEnv(t)
	name := fmt.Sprintf("main-%d", time.Now().UnixNano())
	url, stop := runExporter(t, "--kafka.cluster-name", name, "--cloudwatch.mode", "api", "--cloudwatch.publish-period", "1s",
		"--cloudwatch.endpoint", ep, "--cloudwatch.protocol", "json", "--cloudwatch.namespace", "offsetlag/main-test")
	waitFor(t, url, `offsetlag_cloudwatch_datums_dropped_total{reason="queue_full"} 0`,
		`offsetlag_consumergroup_topic_sum_lag{cluster_name="`+name+`",group="g",topic="t"} 12`)
	waitSentAndStop(t, url, stop)
	now := time.Now()
	out, err := mototest.CloudWatch(ep).GetMetricData(context.Background(), &awscw.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-5 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("sum"), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("offsetlag/main-test"), MetricName: aws.String("SumOffsetLag"),
				Dimensions: []types.Dimension{{Name: aws.String("Cluster Name"), Value: aws.String(name)},
					{Name: aws.String("Consumer Group"), Value: aws.String("g")}, {Name: aws.String("Topic"), Value: aws.String("t")}}},
			Period: aws.Int32(60), Stat: aws.String("Maximum")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := out.MetricDataResults[0].Values; len(v) == 0 || v[0] != 12 {
		t.Fatalf("SumOffsetLag in CloudWatch = %v, want 12", v)
	}
}

// With cloudwatch.mode emf, EMF lines go to the file.
func TestCloudWatchEMFMode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "emf.log")
	url, stop := runExporter(t, "--kafka.cluster-name", "prod", "--cloudwatch.mode", "emf", "--cloudwatch.emf-output", file)
	waitFor(t, url, `offsetlag_consumergroup_topic_sum_lag{cluster_name="prod",group="g",topic="t"} 12`)
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"SumOffsetLag":12`) || !strings.Contains(string(b), `"Namespace":"offsetlag"`) ||
		!strings.Contains(string(b), `"Cluster Name":"prod"`) {
		t.Fatalf("EMF file:\n%s", b)
	}
}

// The binary's default CloudWatch client (protocol default: Smithy RPC v2
// CBOR) publishes to the CBOR stand-in, with the MSK cluster's name as
// Cluster Name, one publish per publish-period.
func TestCloudWatchDefaultProtocol(t *testing.T) {
	s := mototest.StartCloudWatchStandin(t)
	mototest.HermeticAWSEnv(t)
	url, stop := runExporter(t, "--kafka.cluster-name", "prod", "--cloudwatch.mode", "api", "--cloudwatch.publish-period", "1s",
		"--kafka.msk-cluster-arn", "arn:aws:kafka:us-east-1:123456789012:cluster/analytics/0e4d4f5c-1111-2222-3333-444455556666-2",
		"--cloudwatch.endpoint", s.URL)
	waitFor(t, url, `offsetlag_consumergroup_topic_sum_lag{cluster_name="prod",group="g",topic="t"} 12`)
	waitSentAndStop(t, url, stop)
	if errs := s.ProtocolErrors(); len(errs) > 0 {
		t.Fatalf("protocol errors %v", errs)
	}
	found := false
	for _, d := range s.Datums() {
		if d.MetricName == "SumOffsetLag" && len(d.Dimensions) == 3 && d.Dimensions[0].Value == "analytics" &&
			d.Dimensions[1].Value == "g" && d.Dimensions[2].Value == "t" && d.Value == 12 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no SumOffsetLag 12 for Cluster Name analytics, g, t in %d datums", len(s.Datums()))
	}
	for _, rq := range s.Requests() {
		if rq.Protocol != "rpc-v2-cbor" || rq.Status != 200 {
			t.Errorf("request %+v", rq)
		}
	}
}

// waitSentAndStop waits (20 s at most) until the exporter at url counts a
// datum sent to CloudWatch, then stops it and wants exit code 0.
func waitSentAndStop(t *testing.T, url string, stop func() int) {
	t.Helper()
	testenv.WaitFor(t, "a datum sent to CloudWatch", 20*time.Second, 100*time.Millisecond, func() bool {
		m := sentRE.FindStringSubmatch(testenv.Body(url))
		return m != nil && m[1] != "0"
	})
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
