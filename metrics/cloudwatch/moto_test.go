package cloudwatch_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/internal/testing/mototest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

// selfMetric reads one of the publisher's self-metrics ("" label: none).
func selfMetric(t *testing.T, p *cloudwatch.Publisher, name, reason string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if reason != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != reason) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("no metric %s{reason=%q}", name, reason)
	return 0
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, what, timeout, 20*time.Millisecond, cond)
}

func newPublisher(t *testing.T, endpoint string, mod func(*cloudwatch.Options)) *cloudwatch.Publisher {
	t.Helper()
	o := cloudwatch.Options{
		Client:     mototest.CloudWatch(endpoint),
		Config:     cloudwatch.Config{Namespace: uniqueName("offsetlag-test")},
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	}
	return startPublisher(t, o, mod)
}

// startPublisher starts a publisher with o changed by mod, and stops it
// when the test ends.
func startPublisher(t *testing.T, o cloudwatch.Options, mod func(*cloudwatch.Options)) *cloudwatch.Publisher {
	t.Helper()
	if mod != nil {
		mod(&o)
	}
	p, err := cloudwatch.New(o)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Stop(ctx)
	})
	return p
}

// series names one CloudWatch metric.
type series struct {
	name string
	dims []cloudwatch.Dimension
}

func (s series) String() string { return fmt.Sprintf("%s%v", s.name, s.dims) }

func dims(kv ...string) []cloudwatch.Dimension {
	var out []cloudwatch.Dimension
	for i := 0; i < len(kv); i += 2 {
		out = append(out, cloudwatch.Dimension{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// getValues returns each series' values in the second holding ts
// (GetMetricData, Maximum, 500 queries per call).
func getValues(t *testing.T, cw *awscw.Client, namespace string, ts time.Time, ss []series) map[string][]float64 {
	t.Helper()
	start := ts.Truncate(time.Second)
	out := map[string][]float64{}
	for from := 0; from < len(ss); from += 500 {
		to := min(from+500, len(ss))
		var qs []types.MetricDataQuery
		for i := from; i < to; i++ {
			var ds []types.Dimension
			for _, d := range ss[i].dims {
				ds = append(ds, types.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)})
			}
			qs = append(qs, types.MetricDataQuery{Id: aws.String("q" + strconv.Itoa(i)), MetricStat: &types.MetricStat{
				Metric: &types.Metric{Namespace: aws.String(namespace), MetricName: aws.String(ss[i].name), Dimensions: ds},
				Period: aws.Int32(60), Stat: aws.String("Maximum")}})
		}
		res, err := cw.GetMetricData(context.Background(), &awscw.GetMetricDataInput{
			StartTime: aws.Time(start), EndTime: aws.Time(start.Add(time.Second)), MetricDataQueries: qs})
		if err != nil {
			t.Fatalf("GetMetricData: %v", err)
		}
		for _, r := range res.MetricDataResults {
			i, _ := strconv.Atoi(aws.ToString(r.Id)[1:])
			out[ss[i].String()] = r.Values
		}
	}
	return out
}

// 5,000 partition datums (plus the aggregates) go out in at least 5
// requests of at most 1,000, and every one reaches CloudWatch.
func TestFiveThousandPartitions(t *testing.T) {
	ep := mototest.Start(t)
	proxy := newFaultProxy(t, ep)
	p := newPublisher(t, proxy.URL(), func(o *cloudwatch.Options) {
		o.PartitionMetrics, o.MaxMetrics = true, 10_000
	})
	cluster := uniqueName("c5000")
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	p.Enqueue(synthResult(cluster, ts, 5000))
	want := 2 + 4 + 5000 + 3 + 1 + 3 + 1 // cluster and group totals, g1/t1 partitions + aggregates, g1/t2, g2/t1 + partition
	waitFor(t, "all datums sent", 60*time.Second, func() bool {
		return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == float64(want)
	})
	c := proxy.counts()
	if c.puts < 5 || c.faulted != 0 || c.datums != want {
		t.Fatalf("proxy saw %+v, want >= 5 requests carrying %d datums", c, want)
	}
	if f := selfMetric(t, p, "offsetlag_cloudwatch_datums_failed_total", ""); f != 0 {
		t.Fatalf("failed %v", f)
	}
	// Every partition's metric exists in moto (ListMetrics) ...
	cw := mototest.CloudWatch(ep)
	seen := map[string]bool{}
	pages := awscw.NewListMetricsPaginator(cw, &awscw.ListMetricsInput{Namespace: aws.String(p.Namespace()), MetricName: aws.String("OffsetLag"),
		Dimensions: []types.DimensionFilter{{Name: aws.String("Cluster Name"), Value: aws.String(cluster)}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListMetrics: %v", err)
		}
		for _, m := range page.Metrics {
			for _, d := range m.Dimensions {
				if aws.ToString(d.Name) == "Partition" {
					seen[aws.ToString(d.Value)] = true
				}
			}
		}
	}
	for part := range 5000 {
		if !seen[strconv.Itoa(part)] {
			t.Fatalf("partition %d missing from ListMetrics (%d seen)", part, len(seen))
		}
	}
	// ... and holds the right value: the first and last datum of every
	// request, and a spread between (GetMetricData on moto is slow per query).
	var ss []series
	for part := 0; part < 5000; part += 37 {
		ss = append(ss, series{"OffsetLag", dims("Cluster Name", cluster, "Consumer Group", "g1", "Topic", "t1", "Partition", strconv.Itoa(part))})
	}
	for _, part := range []int{996, 997, 1996, 1997, 2996, 2997, 3996, 3997, 4999} {
		ss = append(ss, series{"OffsetLag", dims("Cluster Name", cluster, "Consumer Group", "g1", "Topic", "t1", "Partition", strconv.Itoa(part))})
	}
	ss = append(ss, series{"SumOffsetLag", dims("Cluster Name", cluster, "Consumer Group", "g1", "Topic", "t1")},
		series{"MaxOffsetLag", dims("Cluster Name", cluster, "Consumer Group", "g1", "Topic", "t1")})
	got := getValues(t, cw, "", ts, ss)
	for _, s := range ss[:len(ss)-2] {
		part, _ := strconv.Atoi(s.dims[3].Value)
		if v := got[s.String()]; len(v) != 1 || v[0] != float64(part+1) {
			t.Fatalf("%s = %v, want [%d]", s, v, part+1)
		}
	}
	if v := got[ss[len(ss)-2].String()]; len(v) != 1 || v[0] != 5000*5001/2 {
		t.Errorf("SumOffsetLag = %v", v)
	}
	if v := got[ss[len(ss)-1].String()]; len(v) != 1 || v[0] != 5000 {
		t.Errorf("MaxOffsetLag = %v", v)
	}
}

// Throttling, 5xx and a dropped connection are retried until CloudWatch
// accepts; a validation error is not retried (the request is split).
func TestRetries(t *testing.T) {
	ep := mototest.Start(t)
	cw := mototest.CloudWatch(ep)
	for _, tc := range []struct {
		name        string
		maxAttempts int // 0: the publisher's default
		faults      []fault
		// until is the self-metric that counts all 13 datums once the
		// publisher is done with them (sent or failed).
		until                 string
		puts, faulted, datums int                // seen by the proxy; datums forwarded
		self                  map[string]float64 // other self-metrics
	}{
		{"throttling, 5xx and network errors", 6,
			[]fault{faultThrottle, faultInternal, faultUnavail, faultClose, faultThrottle},
			"offsetlag_cloudwatch_datums_sent_total", 6, 5, 13,
			map[string]float64{"offsetlag_cloudwatch_retries_total": 5, "offsetlag_cloudwatch_request_duration_seconds": 6}},
		{"gives up after MaxAttempts", 3,
			[]fault{faultInternal, faultInternal, faultInternal},
			"offsetlag_cloudwatch_datums_failed_total", 3, 3, 0, nil},
		// The rejected request of 13 datums, then its halves of 6 and 7.
		{"validation error is split, not retried", 0,
			[]fault{faultValidation},
			"offsetlag_cloudwatch_datums_sent_total", 3, 1, 13,
			map[string]float64{"offsetlag_cloudwatch_retries_total": 0, "offsetlag_cloudwatch_requests_split_total": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := newFaultProxy(t, ep)
			var opt func(o *cloudwatch.Options)
			if tc.maxAttempts > 0 {
				opt = func(o *cloudwatch.Options) { o.MaxAttempts = tc.maxAttempts }
			}
			p := newPublisher(t, proxy.URL(), opt)
			proxy.inject(tc.faults...)
			cluster := uniqueName("retry")
			ts := time.Now().Add(-time.Minute)
			p.Enqueue(synthResult(cluster, ts, 3))
			waitFor(t, tc.until, 30*time.Second, func() bool {
				return selfMetric(t, p, tc.until, "") == 13
			})
			if c := proxy.counts(); c.puts != tc.puts || c.faulted != tc.faulted || c.datums != tc.datums {
				t.Errorf("proxy %+v, want %d requests of which %d faulted, %d datums forwarded", c, tc.puts, tc.faulted, tc.datums)
			}
			for name, want := range tc.self {
				if v := selfMetric(t, p, name, ""); v != want {
					t.Errorf("%s %v, want %v", name, v, want)
				}
			}
			if tc.datums == 0 {
				return
			}
			s := series{"MaxOffsetLag", dims("Cluster Name", cluster, "Consumer Group", "g1", "Topic", "t1")}
			if v := getValues(t, cw, "", ts, []series{s})[s.String()]; len(v) != 1 || v[0] != 3 {
				t.Errorf("%s = %v", s, v)
			}
		})
	}
}

// The budget drops per-partition datums first and counts them; totals and
// the at-risk group+topic (g2/t1 is out of range) are kept.
func TestBudget(t *testing.T) {
	ep := mototest.Start(t)
	proxy := newFaultProxy(t, ep)
	p := newPublisher(t, proxy.URL(), func(o *cloudwatch.Options) { o.PartitionMetrics, o.MaxMetrics = true, 10 })
	p.Enqueue(synthResult(uniqueName("budget"), time.Now(), 20)) // 6 totals, 7 group+topic, 21 partition datums
	waitFor(t, "sent", 30*time.Second, func() bool {
		return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == 10
	})
	if d := selfMetric(t, p, "offsetlag_cloudwatch_datums_dropped_total", "budget"); d != 24 {
		t.Errorf("dropped by budget %v, want 24", d)
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	// 3 SumOffsetLag and 3 MaxOffsetLag totals, g2/t1's three, one of g1/t1.
	if proxy.names["OffsetLag"] != 0 || proxy.names["SumOffsetLag"]+proxy.names["MaxOffsetLag"] < 8 || proxy.names["PartitionsOutOfRange"] < 1 {
		t.Errorf("sent by name %v", proxy.names)
	}
}

// The query protocol (protocol: query) works against moto too.
func TestQueryProtocol(t *testing.T) {
	ep := mototest.Start(t)
	client := awscw.NewFromConfig(mototest.AWSConfig(ep), cloudwatch.ProtocolOption(cloudwatch.ProtocolQuery))
	p := newPublisher(t, ep, func(o *cloudwatch.Options) { o.Client = client })
	cluster := uniqueName("query")
	ts := time.Now().Add(-time.Minute)
	p.Enqueue(synthResult(cluster, ts, 2))
	waitFor(t, "sent", 30*time.Second, func() bool {
		return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == 13
	})
	s := series{"SumOffsetLag", dims("Cluster Name", cluster, "Consumer Group", "g1", "Topic", "t1")}
	if v := getValues(t, mototest.CloudWatch(ep), "", ts, []series{s})[s.String()]; len(v) != 1 || v[0] != 3 {
		t.Fatalf("%s = %v", s, v)
	}
}
