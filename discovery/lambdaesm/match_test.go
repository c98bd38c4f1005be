package lambdaesm_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

func TestClusterMatches(t *testing.T) {
	const arn = "arn:aws:kafka:us-east-1:123456789012:cluster/analytics/0e4d4f5c-1111-2222-3333-444455556666-2"
	msk1 := "b-1.analytics.abc123.c2.kafka.us-east-1.amazonaws.com"
	msk2 := "b-2.analytics.abc123.c2.kafka.us-east-1.amazonaws.com"
	cluster := lambdaesm.Cluster{Name: "c", MSKClusterARN: arn, Brokers: []string{msk1 + ":9098", "kafka-1.internal:9092"},
		MetadataBrokers: []string{msk1 + ":9098", msk2 + ":9098", "kafka-1.internal:9092", "kafka-3.internal:9092"}}
	for _, tc := range []struct {
		name string
		m    lambdaesm.Mapping
		want bool
	}{
		{"MSK mapping by ARN", lambdaesm.Mapping{MSKClusterARN: arn}, true},
		{"MSK mapping of another cluster", lambdaesm.Mapping{MSKClusterARN: strings.Replace(arn, "analytics", "other", 1)}, false},
		{"configured bootstrap broker", lambdaesm.Mapping{BootstrapServers: []string{"KAFKA-1.internal:9092"}}, true},
		{"another broker of the cluster (Metadata)", lambdaesm.Mapping{BootstrapServers: []string{"kafka-3.internal:9092"}}, true},
		{"MSK broker on its SASL/SCRAM port", lambdaesm.Mapping{BootstrapServers: []string{msk2 + ":9096"}}, true},
		{"MSK broker on its TLS port", lambdaesm.Mapping{BootstrapServers: []string{msk1 + ":9094"}}, true},
		{"same self-managed host, other port (another cluster)", lambdaesm.Mapping{BootstrapServers: []string{"kafka-1.internal:9093"}}, false},
		{"unknown broker", lambdaesm.Mapping{BootstrapServers: []string{"kafka-9.internal:9092"}}, false},
		{"MSK broker of another cluster", lambdaesm.Mapping{BootstrapServers: []string{"b-1.other.zzz999.c2.kafka.us-east-1.amazonaws.com:9096"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cluster.Matches(tc.m); got != tc.want {
				t.Fatalf("Matches = %v", got)
			}
		})
	}
}

// A self-managed mapping that names a broker of the cluster other than the
// configured bootstrap one matches once the exporter's first poll listed
// the brokers (Metadata), without waiting for the next listing.
func TestMappingMatchesAnyBrokerOfTheCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := kfaketest.New(t, kfake.NumBrokers(3), kfake.SeedTopics(2, "numbers"))
	addrs := c.ListenAddrs()
	s := newStandIn(t, selfManagedMapping("a7e3c1d2-0000-4000-8000-000000000009", "factor", "Disabled", "LATEST",
		"factor-esm", []string{addrs[2]}, "numbers"))
	logs := &testenv.LockedBuffer{}
	d := newDiscoverer(t, s, lambdaesm.Config{Logger: slogText(logs),
		Clusters: []lambdaesm.Cluster{{Name: "c", Brokers: addrs[:1]}}})
	ac, err := kafkaadmin.New(kafkaadmin.Config{Name: "c", Brokers: addrs[:1]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	d.SetMetadataBrokers("c", ac.BrokerAddrs)
	if err := d.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if eg := d.ExpectedGroups("c"); len(eg) != 0 {
		t.Fatalf("matched before any Metadata: %+v", eg)
	}
	tracker, err := expiry.NewTracker(expiry.Config{}, expiry.Options{Clusters: map[string]time.Duration{"c": 0},
		Interval: time.Hour, Expected: d.ExpectedGroups})
	if err != nil {
		t.Fatal(err)
	}
	opts := exporter.Options{OnResult: func(*result.Result) { d.Rematch() }, Expiry: tracker}
	opts.Poll.Interval = time.Hour
	e, err := exporter.New([]exporter.Source{ac}, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.PollAll(ctx)
	eg := d.ExpectedGroups("c")
	if len(eg) != 1 || eg[0].Group != "factor-esm" {
		t.Fatalf("after a poll: expected groups %+v (brokers %v)", eg, ac.BrokerAddrs())
	}
	if got := d.Snapshot().Mappings[0].Cluster; got != "c" {
		t.Fatalf("mapping cluster %q", got)
	}
	out := logs.String()
	if !strings.Contains(out, "matches no configured cluster") || !strings.Contains(out, "watching the consumer group of a Lambda event source mapping") {
		t.Errorf("logs:\n%s", out)
	}
	// The next poll finds the group expected (polled by name).
	r := e.PollAll(ctx)
	cr, _ := resulttest.Cluster(r, "c")
	found := false
	for _, ge := range cr.Expiry {
		found = found || (ge.Group == "factor-esm" && ge.Expected && len(ge.Lambda) == 1)
	}
	if !found {
		t.Fatalf("factor-esm not watched: %+v", cr.Expiry)
	}
}

// Records at risk count the mapping's own topics only, not every topic its
// group commits on.
func TestRecordsAtRiskOnMappingTopics(t *testing.T) {
	ge := &result.GroupExpiry{Group: "g", ExpiresAt: time.Unix(1700000000, 0), Topics: []result.TopicExpiry{
		{Topic: "orders", RecordsAtRisk: []result.RecordsAtRisk{{StartingPosition: "latest", Records: 9}}},
		{Topic: "audit", RecordsAtRisk: []result.RecordsAtRisk{{StartingPosition: "latest", Records: 12}}},
	}}
	l := result.LambdaESM{FunctionName: "f", StartingPosition: "latest", State: "Disabled"}
	if n, ok := lambdaesm.RecordsAtRisk(ge, l, "orders"); !ok || n != 9 {
		t.Fatalf("mapping on orders: %d %v, want 9", n, ok)
	}
	if n, _ := lambdaesm.RecordsAtRisk(ge, l); n != 21 {
		t.Fatalf("no topics given: %d, want 21", n)
	}
	msg, _ := lambdaesm.Warning("c", ge, l, "orders")
	if !strings.Contains(msg, "about 9 records") {
		t.Fatalf("warning %q", msg)
	}
}

func slogText(w *testenv.LockedBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
