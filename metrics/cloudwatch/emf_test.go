package cloudwatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

type emfLine struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct {
				Name              string
				Unit              string
				StorageResolution int
			}
		}
	} `json:"_aws"`
	Fields map[string]any `json:"-"`
}

func parseEMF(t *testing.T, out string) []emfLine {
	t.Helper()
	var lines []emfLine
	for _, raw := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var l emfLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("line %q: %v", raw, err)
		}
		if err := json.Unmarshal([]byte(raw), &l.Fields); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestBuild(t *testing.T) {
	ts := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	r := synthResult("c1", ts, 3)
	// Time lag on g1/t1: partition p is p*1.5 s behind; partition 2's
	// source is unknown (no EstimatedTimeLag).
	t1 := &r.Clusters[0].Groups[0].Topics[0]
	t1.HasLagSeconds, t1.MaxLagSeconds = true, 1.5
	for i := range t1.Partitions[:2] {
		t1.Partitions[i].LagSeconds, t1.Partitions[i].LagSecondsSource = float64(i)*1.5, result.LagSourceInterpolated
	}
	// Expiry: g1's commits on t1 expire in 90 s; gone's on old expired.
	r.Clusters[0].Expiry = []result.GroupExpiry{
		{Group: "g1", Topics: []result.TopicExpiry{{Topic: "t1", ExpiresAt: ts.Add(90 * time.Second)}}},
		{Group: "gone", Topics: []result.TopicExpiry{{Topic: "old", Expired: true, ExpiredAt: ts}}},
	}
	type key struct{ name, dims string }
	got := map[key]float64{}
	for _, d := range cloudwatch.Build(&r.Clusters[0], cloudwatch.BuildOptions{PartitionMetrics: true}) {
		var dims []string
		for _, dim := range d.Dimensions {
			dims = append(dims, dim.Name+"="+dim.Value)
		}
		unit := types.StandardUnitCount
		if strings.HasPrefix(d.Name, "Estimated") || strings.HasSuffix(d.Name, "RecordAge") || d.Name == "SecondsUntilOffsetExpiry" {
			unit = types.StandardUnitSeconds
		}
		if !d.Time.Equal(ts) || d.Unit != unit {
			t.Errorf("%s: time %s unit %s", d.Name, d.Time, d.Unit)
		}
		got[key{d.Name, strings.Join(dims, ",")}] = d.Value
	}
	base := "Cluster Name=c1,Consumer Group=g1,Topic=t1"
	want := map[key]float64{
		// Cluster and group totals over the group+topics with a known lag.
		{"SumOffsetLag", "Cluster Name=c1"}: 13, {"MaxOffsetLag", "Cluster Name=c1"}: 7,
		{"SumOffsetLag", "Cluster Name=c1,Consumer Group=g1"}: 6, {"MaxOffsetLag", "Cluster Name=c1,Consumer Group=g1"}: 3,
		{"SumOffsetLag", "Cluster Name=c1,Consumer Group=g2"}: 7, {"MaxOffsetLag", "Cluster Name=c1,Consumer Group=g2"}: 7,
		{"SumOffsetLag", base}: 6, {"MaxOffsetLag", base}: 3, {"MaxRecordAge", base}: 1.5, {"PartitionsOutOfRange", base}: 0,
		{"RecordAge", base + ",Partition=0"}: 0, {"RecordAge", base + ",Partition=1"}: 1.5,
		{"OffsetLag", base + ",Partition=0"}: 1, {"OffsetLag", base + ",Partition=1"}: 2, {"OffsetLag", base + ",Partition=2"}: 3,
		// t2 has no known lag: no Sum/Max, only the out-of-range count.
		{"PartitionsOutOfRange", "Cluster Name=c1,Consumer Group=g1,Topic=t2"}: 0,
		{"SumOffsetLag", "Cluster Name=c1,Consumer Group=g2,Topic=t1"}:         7, {"MaxOffsetLag", "Cluster Name=c1,Consumer Group=g2,Topic=t1"}: 7,
		{"PartitionsOutOfRange", "Cluster Name=c1,Consumer Group=g2,Topic=t1"}:  1,
		{"OffsetLag", "Cluster Name=c1,Consumer Group=g2,Topic=t1,Partition=0"}: 7,
		{"OffsetsExpired", base}: 0, {"SecondsUntilOffsetExpiry", base}: 90,
		{"OffsetsExpired", "Cluster Name=c1,Consumer Group=gone,Topic=old"}: 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("datums\n got %v\nwant %v", got, want)
	}
	if n := len(cloudwatch.Build(&r.Clusters[0], cloudwatch.BuildOptions{})); n != 17 {
		t.Errorf("without partition metrics: %d datums, want 17", n)
	}
	// MSK's EstimatedTimeLag: the partition's lag over its consume rate;
	// EstimatedMaxTimeLag the longest of them, unknown when a lagging
	// partition has no rate (g2/t1). The Cluster Name can be overridden.
	rates := map[string]float64{"g1/t1/0": 1, "g1/t1/1": 0.5, "g1/t1/2": 3}
	got = map[key]float64{}
	for _, d := range cloudwatch.Build(&r.Clusters[0], cloudwatch.BuildOptions{PartitionMetrics: true, ClusterName: "msk-prod",
		ConsumeRate: func(g, tp string, p int32) (float64, bool) {
			v, ok := rates[fmt.Sprintf("%s/%s/%d", g, tp, p)]
			return v, ok
		}}) {
		if !strings.HasPrefix(d.Name, "Estimated") {
			continue
		}
		var dims []string
		for _, dim := range d.Dimensions {
			dims = append(dims, dim.Name+"="+dim.Value)
		}
		got[key{d.Name, strings.Join(dims, ",")}] = d.Value
	}
	mbase := "Cluster Name=msk-prod,Consumer Group=g1,Topic=t1"
	want = map[key]float64{{"EstimatedMaxTimeLag", mbase}: 4,
		{"EstimatedTimeLag", mbase + ",Partition=0"}: 1, {"EstimatedTimeLag", mbase + ",Partition=1"}: 4, {"EstimatedTimeLag", mbase + ",Partition=2"}: 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("drain times\n got %v\nwant %v", got, want)
	}
	r.Clusters[0].LastSuccess = time.Time{}
	if n := len(cloudwatch.Build(&r.Clusters[0], cloudwatch.BuildOptions{PartitionMetrics: true})); n != 0 {
		t.Errorf("never polled successfully: %d datums", n)
	}
}

func TestEMFLines(t *testing.T) {
	ts := time.Date(2025, 3, 1, 12, 0, 0, 123_000_000, time.UTC)
	r := synthResult("c1", ts, 2)
	var buf bytes.Buffer
	w := cloudwatch.NewEMFWriter(&buf, "my/ns", 1)
	if err := w.Write(cloudwatch.Build(&r.Clusters[0], cloudwatch.BuildOptions{PartitionMetrics: true})); err != nil {
		t.Fatal(err)
	}
	lines := parseEMF(t, buf.String())
	// c1, g1, g1/t1 (3 metrics), g1/t1/0, g1/t1/1, g1/t2, g2, g2/t1, g2/t1/0.
	if len(lines) != 9 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if fmt.Sprint(lines[0].AWS.CloudWatchMetrics[0].Dimensions) != "[[Cluster Name]]" || lines[0].Fields["SumOffsetLag"] != 10.0 {
		t.Errorf("cluster line %v", lines[0].Fields)
	}
	if fmt.Sprint(lines[1].AWS.CloudWatchMetrics[0].Dimensions) != "[[Cluster Name Consumer Group]]" || lines[1].Fields["SumOffsetLag"] != 3.0 {
		t.Errorf("group line %v", lines[1].Fields)
	}
	first := lines[2]
	if first.AWS.Timestamp != ts.UnixMilli() {
		t.Errorf("Timestamp %d, want %d", first.AWS.Timestamp, ts.UnixMilli())
	}
	if len(first.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("CloudWatchMetrics %+v", first.AWS.CloudWatchMetrics)
	}
	dir := first.AWS.CloudWatchMetrics[0]
	if dir.Namespace != "my/ns" || fmt.Sprint(dir.Dimensions) != "[[Cluster Name Consumer Group Topic]]" {
		t.Errorf("directive %+v", dir)
	}
	var names []string
	for _, m := range dir.Metrics {
		names = append(names, m.Name+"/"+m.Unit+"/"+fmt.Sprint(m.StorageResolution))
	}
	if fmt.Sprint(names) != "[SumOffsetLag/Count/1 MaxOffsetLag/Count/1 PartitionsOutOfRange/Count/1]" {
		t.Errorf("metrics %v", names)
	}
	wantFields := map[string]any{"Cluster Name": "c1", "Consumer Group": "g1", "Topic": "t1",
		"SumOffsetLag": 3.0, "MaxOffsetLag": 2.0, "PartitionsOutOfRange": 0.0}
	for k, v := range wantFields {
		if first.Fields[k] != v {
			t.Errorf("field %q = %v, want %v", k, first.Fields[k], v)
		}
	}
	if len(first.Fields) != len(wantFields)+1 { // + _aws
		t.Errorf("fields %v", first.Fields)
	}
	part := lines[3]
	if d := part.AWS.CloudWatchMetrics[0].Dimensions; fmt.Sprint(d) != "[[Cluster Name Consumer Group Topic Partition]]" {
		t.Errorf("partition dimensions %v", d)
	}
	if part.Fields["Partition"] != "0" || part.Fields["OffsetLag"] != 1.0 {
		t.Errorf("partition line %v", part.Fields)
	}
}

func TestEMFAtMost100MetricsPerLine(t *testing.T) {
	var ds []cloudwatch.Datum
	ts := time.Unix(1700000000, 0)
	dims := []cloudwatch.Dimension{{Name: "Cluster Name", Value: "c"}}
	for i := range 150 {
		ds = append(ds, cloudwatch.Datum{Name: fmt.Sprint("M", i), Unit: types.StandardUnitSeconds, Value: float64(i), Time: ts, Dimensions: dims})
	}
	var buf bytes.Buffer
	if err := cloudwatch.NewEMFWriter(&buf, "ns", 60).Write(ds); err != nil {
		t.Fatal(err)
	}
	lines := parseEMF(t, buf.String())
	if len(lines) != 2 || len(lines[0].AWS.CloudWatchMetrics[0].Metrics) != 100 || len(lines[1].AWS.CloudWatchMetrics[0].Metrics) != 50 {
		t.Fatalf("%d lines", len(lines))
	}
	if m := lines[1].AWS.CloudWatchMetrics[0].Metrics[0]; m.Name != "M100" || m.Unit != "Seconds" || m.StorageResolution != 0 {
		t.Errorf("first metric of line 2: %+v", m)
	}
	if lines[1].Fields["M149"] != 149.0 || lines[1].Fields["Cluster Name"] != "c" {
		t.Errorf("line 2 fields %v", lines[1].Fields)
	}
}

// The publisher in EMF mode writes one poll's lines and counts them as sent.
func TestPublisherEMF(t *testing.T) {
	var buf bytes.Buffer
	p, err := cloudwatch.New(cloudwatch.Options{EMF: &buf, Config: cloudwatch.Config{Namespace: "ns"}})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	ts := time.Unix(1700000000, 0)
	r := synthResult("c1", ts, 2)
	p.Enqueue(r)
	p.Enqueue(r) // the same poll again: nothing new
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := parseEMF(t, buf.String())
	if len(lines) != 6 { // c1, g1, g1/t1, g1/t2, g2, g2/t1
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if got := testutil.ToFloat64(p.Collectors()[0]); got != 13 {
		t.Errorf("sent %v, want 13", got)
	}
}
