package cloudwatch_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

// readmeMetrics returns the rows of README's CloudWatch metric table as
// "Metric|Dimension, ..." keys.
func readmeMetrics(t *testing.T) map[string]bool {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	const begin, end = "<!-- cloudwatch-metrics:begin -->", "<!-- cloudwatch-metrics:end -->"
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %s ... %s table", begin, end)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(s[i+len(begin):j], "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 5 || !strings.HasPrefix(strings.TrimSpace(cols[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cols[1]), "`")
		var dims []string
		for _, d := range strings.Split(cols[3], ",") {
			dims = append(dims, strings.Trim(strings.TrimSpace(d), "`"))
		}
		key := name + "|" + strings.Join(dims, ", ")
		if out[key] {
			t.Errorf("README row %s twice", key)
		}
		out[key] = true
	}
	return out
}

// Every metric the publisher sends (with every option on and every kind of
// data present) is a row of README's table, and every row is sent.
func TestREADMEMetricTable(t *testing.T) {
	var buf bytes.Buffer
	p, err := cloudwatch.New(cloudwatch.Options{EMF: &buf, Config: cloudwatch.Config{PartitionMetrics: true}, RateWindow: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	ts := time.Unix(1700000000, 0)
	for poll := range 2 {
		r := synthResult("c1", ts.Add(time.Duration(poll)*time.Second), 3)
		g1t1 := &r.Clusters[0].Groups[0].Topics[0]
		g1t1.HasLagSeconds, g1t1.MaxLagSeconds = true, 3
		for i := range g1t1.Partitions {
			pl := &g1t1.Partitions[i]
			pl.Committed += int64(poll) // consumed one record a second
			pl.Lag, pl.LagSeconds, pl.LagSecondsSource = pl.End-pl.Committed, 3, result.LagSourceInterpolated
		}
		r.Clusters[0].Expiry = []result.GroupExpiry{{Group: "g1", Topics: []result.TopicExpiry{
			{Topic: "t1", ExpiresAt: ts.Add(time.Hour)}, {Topic: "t2", Expired: true}}}}
		p.Enqueue(r)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	sent := map[string]bool{}
	for _, l := range parseEMF(t, buf.String()) {
		for _, dir := range l.AWS.CloudWatchMetrics {
			for _, m := range dir.Metrics {
				sent[m.Name+"|"+strings.Join(dir.Dimensions[0], ", ")] = true
			}
		}
	}
	doc := readmeMetrics(t)
	var missing, extra []string
	for k := range sent {
		if !doc[k] {
			missing = append(missing, k)
		}
	}
	for k := range doc {
		if !sent[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("README's CloudWatch metric table and the publisher disagree:\n sent, not in README: %v\n in README, not sent: %v", missing, extra)
	}
	if len(doc) != 14 {
		t.Errorf("%d rows", len(doc))
	}
}
