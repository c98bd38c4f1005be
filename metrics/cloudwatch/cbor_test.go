package cloudwatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/mototest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

// The tests in this file run the SDK's default CloudWatch client, made by
// the production constructor (cloudwatch.NewClient, protocol "default":
// Smithy RPC v2 CBOR), against mototest's CBOR stand-in.

// standinClient is the production client for the stand-in, with the
// given protocol ("" = the SDK's default).
func standinClient(t *testing.T, s *mototest.CloudWatchStandin, protocol cloudwatch.Protocol) *awscw.Client {
	t.Helper()
	mototest.HermeticAWSEnv(t)
	c, err := cloudwatch.NewClient(context.Background(), cloudwatch.ClientOptions{Endpoint: s.URL, Protocol: protocol})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newStandinPublisher(t *testing.T, client cloudwatch.API, logs *testenv.LockedBuffer, mod func(*cloudwatch.Options)) *cloudwatch.Publisher {
	t.Helper()
	o := cloudwatch.Options{Client: client, Config: cloudwatch.Config{Namespace: "offsetlag-test"},
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	if logs != nil {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return startPublisher(t, o, mod)
}

// datumKey identifies a datum by name and dimension values.
func datumKey(name string, dims []string) string { return name + "{" + strings.Join(dims, ",") + "}" }

func builtKeys(ds []cloudwatch.Datum) map[string]cloudwatch.Datum {
	out := map[string]cloudwatch.Datum{}
	for _, d := range ds {
		var dv []string
		for _, dim := range d.Dimensions {
			dv = append(dv, dim.Name+"="+dim.Value)
		}
		out[datumKey(d.Name, dv)] = d
	}
	return out
}

func standinKeys(ds []mototest.StandinDatum) map[string][]mototest.StandinDatum {
	out := map[string][]mototest.StandinDatum{}
	for _, d := range ds {
		var dv []string
		for _, dim := range d.Dimensions {
			dv = append(dv, dim.Name+"="+dim.Value)
		}
		k := datumKey(d.MetricName, dv)
		out[k] = append(out[k], d)
	}
	return out
}

// Every datum of a 5,000-partition poll reaches the stand-in over the
// SDK's default protocol, exactly as built: name, dimensions, value, unit,
// timestamp (ms), resolution, namespace; large bodies are gzip-compressed;
// no request exceeds 1,000 datums.
func TestDefaultProtocolEveryDatum(t *testing.T) {
	s := mototest.StartCloudWatchStandin(t)
	p := newStandinPublisher(t, standinClient(t, s, cloudwatch.ProtocolDefault), nil, func(o *cloudwatch.Options) {
		o.PartitionMetrics, o.MaxMetrics, o.StorageResolution = true, 0, 1
	})
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	r := synthResult("cbor", ts, 5000)
	g1t1 := &r.Clusters[0].Groups[0].Topics[0]
	g1t1.HasLagSeconds, g1t1.MaxLagSeconds = true, 12.25
	for i := range g1t1.Partitions {
		g1t1.Partitions[i].LagSeconds, g1t1.Partitions[i].LagSecondsSource = float64(i)/4, result.LagSourceInterpolated
	}
	r.Clusters[0].Expiry = []result.GroupExpiry{{Group: "g1", Topics: []result.TopicExpiry{{Topic: "t1", ExpiresAt: ts.Add(90 * time.Second)}}}}
	want := builtKeys(cloudwatch.Build(&r.Clusters[0], cloudwatch.BuildOptions{PartitionMetrics: true}))
	p.Enqueue(r)
	waitFor(t, "all datums sent", 60*time.Second, func() bool {
		return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == float64(len(want))
	})
	if errs := s.ProtocolErrors(); len(errs) > 0 {
		t.Fatalf("protocol errors: %v", errs)
	}
	got := standinKeys(s.Datums())
	if len(got) != len(want) {
		t.Fatalf("stand-in holds %d metrics, built %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if len(g) != 1 {
			t.Fatalf("%s received %d times", k, len(g))
		}
		d := g[0]
		if d.Value != w.Value || d.Unit != string(w.Unit) || !d.Timestamp.Equal(w.Time) || d.StorageResolution != 1 || d.Namespace != "offsetlag-test" {
			t.Fatalf("%s: got %+v, want value %v unit %s time %s", k, d, w.Value, w.Unit, w.Time)
		}
	}
	reqs := s.Requests()
	gz := 0
	for _, rq := range reqs {
		if rq.Operation != "PutMetricData" || rq.Protocol != "rpc-v2-cbor" || rq.Status != 200 || rq.Datums > 1000 {
			t.Errorf("request %+v", rq)
		}
		if rq.PayloadBytes >= 10240 && !rq.Gzip {
			t.Errorf("request of %d bytes not gzip-compressed", rq.PayloadBytes)
		}
		if rq.Gzip {
			gz++
			if rq.BodyBytes >= rq.PayloadBytes {
				t.Errorf("gzip body %d bytes for a %d-byte payload", rq.BodyBytes, rq.PayloadBytes)
			}
		}
	}
	t.Logf("%d datums in %d requests over the default protocol, %d gzip-compressed", len(want), len(reqs), gz)
	if len(reqs) < 11 || gz == 0 {
		t.Errorf("%d requests, %d gzip; want >= 11 (10,000+ datums), some gzip", len(reqs), gz)
	}
}

// Throttling, 5xx and a dropped connection answered in the CBOR protocol
// are retried; a validation error splits the request; MaxAttempts gives up.
func TestDefaultProtocolErrors(t *testing.T) {
	t.Run("retried until accepted", func(t *testing.T) {
		s := mototest.StartCloudWatchStandin(t)
		p := newStandinPublisher(t, standinClient(t, s, ""), nil, func(o *cloudwatch.Options) { o.MaxAttempts = 6 })
		s.Inject(mototest.FaultThrottle, mototest.FaultInternal, mototest.FaultUnavail, mototest.FaultClose, mototest.FaultThrottle)
		p.Enqueue(synthResult("retry", time.Now(), 3))
		waitFor(t, "sent", 30*time.Second, func() bool {
			return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == 13
		})
		if r := selfMetric(t, p, "offsetlag_cloudwatch_retries_total", ""); r != 5 {
			t.Errorf("retries %v, want 5", r)
		}
		var codes []string
		for _, rq := range s.Requests() {
			codes = append(codes, fmt.Sprint(rq.Status, rq.ErrorCode))
		}
		if fmt.Sprint(codes) != "[400Throttling 500InternalServiceError 503ServiceUnavailable -1 400Throttling 200]" {
			t.Errorf("requests %v", codes)
		}
		if len(s.Datums()) != 13 || len(s.ProtocolErrors()) != 0 {
			t.Errorf("%d datums, protocol errors %v", len(s.Datums()), s.ProtocolErrors())
		}
	})
	t.Run("validation error splits", func(t *testing.T) {
		s := mototest.StartCloudWatchStandin(t)
		p := newStandinPublisher(t, standinClient(t, s, ""), nil, nil)
		s.Inject(mototest.FaultValidation)
		p.Enqueue(synthResult("split", time.Now(), 3))
		waitFor(t, "sent", 30*time.Second, func() bool {
			return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == 13
		})
		if n := len(s.Requests()); n != 3 {
			t.Errorf("%d requests, want 3 (rejected, then two halves)", n)
		}
		if r := selfMetric(t, p, "offsetlag_cloudwatch_retries_total", ""); r != 0 {
			t.Errorf("retries %v", r)
		}
	})
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		s := mototest.StartCloudWatchStandin(t)
		p := newStandinPublisher(t, standinClient(t, s, ""), nil, func(o *cloudwatch.Options) { o.MaxAttempts = 3 })
		s.Inject(mototest.FaultInternal, mototest.FaultInternal, mototest.FaultInternal)
		p.Enqueue(synthResult("giveup", time.Now(), 3))
		waitFor(t, "failed", 30*time.Second, func() bool {
			return selfMetric(t, p, "offsetlag_cloudwatch_datums_failed_total", "") == 13
		})
		if n := len(s.Requests()); n != 3 || len(s.Datums()) != 0 {
			t.Errorf("%d requests, %d datums", n, len(s.Datums()))
		}
	})
}

// manyGroups is one cluster polled at ts with the groups, each on topics
// t0..t(topics-1) with one partition; group i's lag on topic j is
// (i+1)*(j+1)+lagBase.
func manyGroups(cluster string, ts time.Time, groups []string, topics int, lagBase int64) *result.Result {
	cr := result.ClusterResult{Name: cluster, Up: true, LastPoll: ts, LastSuccess: ts}
	for i, g := range groups {
		gr := result.GroupResult{Name: g}
		for j := range topics {
			lag := int64((i+1)*(j+1)) + lagBase
			gr.Topics = append(gr.Topics, result.GroupTopicResult{Topic: fmt.Sprint("t", j), SumLag: lag, MaxLag: lag,
				Partitions: []result.PartitionLag{{Partition: 0, Committed: 100, End: 100 + lag, Lag: lag, HasLag: true}}})
			gr.SumLag += lag
			gr.MaxLag = max(gr.MaxLag, lag)
		}
		cr.Groups = append(cr.Groups, gr)
	}
	sort.Slice(cr.Groups, func(a, b int) bool { return cr.Groups[a].Name < cr.Groups[b].Name })
	return &result.Result{Generated: ts, Clusters: []result.ClusterResult{cr}}
}

var badGroups = []string{"café-orders", "заказы", "注文処理", "   "}

func groupNames(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("g-%04d", i))
	}
	return out
}

// With 500 groups plus three non-ASCII and one whitespace-only group name,
// no datum of a valid group is lost, in api mode (CBOR, the default, and
// JSON) and in EMF, with invalid-names map (the bad groups' datums go out
// under mapped names) and drop (counted); each bad group is logged once
// over two polls.
func TestInvalidGroupNamesCostNothing(t *testing.T) {
	names := append(groupNames(500), badGroups...)
	t0 := time.Now().Add(-2 * time.Minute).Truncate(time.Millisecond)
	polls := []*result.Result{manyGroups("c", t0, names, 2, 0), manyGroups("c", t0.Add(time.Second), names, 2, 5)}
	isBad := map[string]bool{}
	for _, b := range badGroups {
		isBad[b] = true
	}
	// Per poll: 2 cluster totals, per group 2 totals + per topic Sum, Max, OutOfRange.
	perGroup := 2 + 2*3
	for _, mode := range []string{"cbor", "json", "emf"} {
		for _, policy := range []cloudwatch.InvalidNames{cloudwatch.InvalidNamesMap, cloudwatch.InvalidNamesDrop} {
			t.Run(mode+"/"+string(policy), func(t *testing.T) {
				var logs testenv.LockedBuffer
				var emf testenv.LockedBuffer
				var s *mototest.CloudWatchStandin
				mod := func(o *cloudwatch.Options) { o.InvalidNames, o.MaxMetrics = policy, 0 }
				var p *cloudwatch.Publisher
				switch mode {
				case "emf":
					p = newStandinPublisher(t, nil, &logs, func(o *cloudwatch.Options) { mod(o); o.Client, o.EMF = nil, &emf })
				default:
					s = mototest.StartCloudWatchStandin(t)
					proto := cloudwatch.ProtocolDefault
					if mode == "json" {
						proto = cloudwatch.ProtocolJSON
					}
					p = newStandinPublisher(t, standinClient(t, s, proto), &logs, mod)
				}
				wantSent := 0
				for _, r := range polls {
					p.Enqueue(r)
					n := 2 + perGroup*500
					if policy == cloudwatch.InvalidNamesMap {
						n += perGroup * len(badGroups)
					}
					wantSent += n
					waitFor(t, "poll sent", 60*time.Second, func() bool {
						return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == float64(wantSent)
					})
				}
				badDatums := float64(2 * perGroup * len(badGroups))
				if policy == cloudwatch.InvalidNamesMap {
					if m := selfMetric(t, p, "offsetlag_cloudwatch_datums_mapped_total", ""); m != badDatums {
						t.Errorf("mapped %v, want %v", m, badDatums)
					}
				} else if d := selfMetric(t, p, "offsetlag_cloudwatch_datums_dropped_total", "invalid_name"); d != badDatums {
					t.Errorf("dropped invalid_name %v, want %v", d, badDatums)
				}
				if f := selfMetric(t, p, "offsetlag_cloudwatch_datums_failed_total", ""); f != 0 {
					t.Errorf("failed %v", f)
				}
				// One log line per bad group over both polls.
				for _, b := range badGroups {
					if n := strings.Count(logs.String(), `"value":`+jsonString(b)); n != 1 {
						t.Errorf("group %q logged %d times:\n%s", b, n, logs.String())
					}
				}
				// Every datum of every valid group (and, mapped, of the
				// bad ones) arrived with its value.
				type rec struct {
					group string
					value float64
				}
				var got []rec
				if s != nil {
					for _, rq := range s.Requests() {
						if rq.Status != 200 {
							t.Errorf("request %+v", rq)
						}
					}
					if errs := s.ProtocolErrors(); len(errs) > 0 {
						t.Fatalf("protocol errors %v", errs)
					}
					for _, d := range s.Datums() {
						g := ""
						for _, dim := range d.Dimensions {
							if dim.Name == cloudwatch.DimConsumerGroup {
								g = dim.Value
							}
						}
						got = append(got, rec{g, d.Value})
					}
				} else {
					for _, l := range parseEMF(t, emf.String()) {
						for k, v := range l.Fields {
							if k == "_aws" {
								continue
							}
							if sv, ok := v.(string); ok {
								if !asciiOK(sv) {
									t.Fatalf("EMF line with dimension %s=%q", k, sv)
								}
								continue
							}
						}
						g, _ := l.Fields[cloudwatch.DimConsumerGroup].(string)
						for _, m := range l.AWS.CloudWatchMetrics[0].Metrics {
							got = append(got, rec{g, l.Fields[m.Name].(float64)})
						}
					}
				}
				perName := map[string]int{}
				sum := map[string]float64{}
				for _, r := range got {
					perName[r.group]++
					sum[r.group] += r.value
				}
				for i, g := range names {
					pub := g
					if isBad[g] {
						if policy == cloudwatch.InvalidNamesDrop {
							if perName[g]+perName[cloudwatch.MapDimensionValue(g)] != 0 {
								t.Errorf("dropped group %q published", g)
							}
							continue
						}
						pub = cloudwatch.MapDimensionValue(g)
					}
					// Sum over both polls of the group's values: totals
					// and topics (Sum and Max of lag L each), out-of-range 0.
					// Per poll with L0, L1 the topics' lags: totals
					// L0+L1 and L1, topics L0, L0, L1, L1 (Sum, Max),
					// 3*L0 + 4*L1 in all; L0 = i+1+b, L1 = 2(i+1)+b for
					// the lag bases b = 0 and 5: 22(i+1) + 35.
					want := float64(22*(i+1) + 35)
					if perName[pub] != 2*perGroup || math.Abs(sum[pub]-want) > 1e-9 {
						t.Fatalf("group %q (published as %q): %d datums summing to %v, want %d summing to %v",
							g, pub, perName[pub], sum[pub], 2*perGroup, want)
					}
				}
			})
		}
	}
}

func jsonString(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func asciiOK(v string) bool {
	if v == "" || len(v) > 1024 || strings.TrimSpace(v) == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// A datum that passes the publisher's checks but that CloudWatch rejects
// (emulated) costs only that group: the request is bisected, every other
// datum arrives, the rejected ones are counted and the group logged once.
func TestRejectedDatumIsolated(t *testing.T) {
	s := mototest.StartCloudWatchStandin(t)
	s.RejectWhen(func(d mototest.StandinDatum) bool {
		for _, dim := range d.Dimensions {
			if dim.Name == cloudwatch.DimConsumerGroup && dim.Value == "g-0042" {
				return true
			}
		}
		return false
	})
	var logs testenv.LockedBuffer
	p := newStandinPublisher(t, standinClient(t, s, ""), &logs, func(o *cloudwatch.Options) { o.MaxMetrics = 0 })
	names := groupNames(500)
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	perPoll := 2 + 8*500
	for i, r := range []*result.Result{manyGroups("c", ts, names, 2, 0), manyGroups("c", ts.Add(time.Second), names, 2, 1)} {
		p.Enqueue(r)
		waitFor(t, "poll sent", 60*time.Second, func() bool {
			return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == float64((i+1)*(perPoll-8))
		})
	}
	if d := selfMetric(t, p, "offsetlag_cloudwatch_datums_dropped_total", "rejected"); d != 16 {
		t.Errorf("rejected %v, want 16 (8 datums of g-0042, two polls)", d)
	}
	if f := selfMetric(t, p, "offsetlag_cloudwatch_datums_failed_total", ""); f != 0 {
		t.Errorf("failed %v", f)
	}
	if n := strings.Count(logs.String(), `"group":"g-0042"`); n != 1 {
		t.Errorf("g-0042 logged %d times:\n%s", n, logs.String())
	}
	// 8 adjacent bad datums in a request of 1,000: at most 2 splits per
	// level of a 10-level bisection, in the first poll only: the second
	// leaves the rejected datums out.
	if sp := selfMetric(t, p, "offsetlag_cloudwatch_requests_split_total", ""); sp == 0 || sp > 2*10 {
		t.Errorf("splits %v, want 1 to 20", sp)
	}
	t.Logf("2 polls of %d datums: %d requests, %d splits, %d datums rejected", perPoll, len(s.Requests()),
		int(selfMetric(t, p, "offsetlag_cloudwatch_requests_split_total", "")), int(selfMetric(t, p, "offsetlag_cloudwatch_datums_dropped_total", "rejected")))
	if n := len(s.Datums()); n != 2*(perPoll-8) {
		t.Errorf("stand-in holds %d datums, want %d", n, 2*(perPoll-8))
	}
}

// At 2,000 group+topic pairs (1,000 groups x 2 topics) and a budget of
// 5,000 metrics, every group's total lag is published every period; the
// group+topics kept are those with the largest lag; the warning names
// what was cut.
func TestBudgetKeepsEveryGroupTotal(t *testing.T) {
	s := mototest.StartCloudWatchStandin(t)
	var logs testenv.LockedBuffer
	p := newStandinPublisher(t, standinClient(t, s, ""), &logs, func(o *cloudwatch.Options) { o.MaxMetrics = 5000 })
	names := groupNames(1000)
	ts := time.Now().Add(-time.Hour).Truncate(time.Minute)
	hour := time.Now().Unix() / 3600
	for period := range 3 {
		before := len(s.Datums())
		p.Enqueue(manyGroups("c", ts.Add(time.Duration(period)*time.Minute), names, 2, int64(period)))
		waitFor(t, "period published", 60*time.Second, func() bool {
			return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") == float64(5000*(period+1))
		})
		ds := s.Datums()[before:]
		totals := map[string]int{}
		pairs := map[string]bool{}
		for _, d := range ds {
			if !d.Timestamp.Equal(ts.Add(time.Duration(period) * time.Minute)) {
				t.Fatalf("period %d: datum of another period %+v", period, d)
			}
			switch len(d.Dimensions) {
			case 2:
				totals[d.Dimensions[1].Value]++
			case 3:
				pairs[d.Dimensions[1].Value+"/"+d.Dimensions[2].Value] = true
			}
		}
		for _, g := range names {
			if totals[g] != 2 {
				t.Fatalf("period %d: group %s has %d total metrics, want SumOffsetLag and MaxOffsetLag", period, g, totals[g])
			}
		}
		// 5,000 - 2 cluster - 2,000 group totals = 2,998 group+topic
		// datums, 3 per pair: the 999 pairs with the largest lag (and
		// one more partly); g-0999/t1 has the largest.
		t.Logf("period %d: %d datums, all %d group totals, %d of 2,000 group+topics", period, len(ds), len(totals), len(pairs))
		if !pairs["g-0999/t1"] || !pairs["g-0500/t1"] || pairs["g-0001/t0"] || len(pairs) < 999 || len(pairs) > 1001 {
			t.Fatalf("period %d: %d group+topics kept (g-0999/t1 %v, g-0001/t0 %v)", period, len(pairs), pairs["g-0999/t1"], pairs["g-0001/t0"])
		}
	}
	// The same 5,000 metrics every period: 5,000 billed for the hour.
	if h := selfMetric(t, p, "offsetlag_cloudwatch_metrics_this_hour", ""); h != 5000 && time.Now().Unix()/3600 == hour {
		t.Errorf("%v distinct metrics this hour, want 5000", h)
	}
	if d := selfMetric(t, p, "offsetlag_cloudwatch_datums_dropped_total", "budget"); d != 3*(2+2000+6000-5000) {
		t.Errorf("dropped by budget %v, want %d", d, 3*(2+2000+6000-5000))
	}
	if n := strings.Count(logs.String(), "budget exceeded"); n != 1 || !strings.Contains(logs.String(), "group+topic MaxOffsetLag: ") {
		t.Errorf("want one warning naming what was cut:\n%s", logs.String())
	}
}

// With a publish period, several polls make one publish of the latest:
// one point per metric and period whatever the poll interval.
func TestPublishPeriodOnePointPerPeriod(t *testing.T) {
	s := mototest.StartCloudWatchStandin(t)
	p := newStandinPublisher(t, standinClient(t, s, ""), nil, func(o *cloudwatch.Options) { o.PublishPeriod = time.Hour })
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	for i := range 5 {
		p.Enqueue(manyGroups("c", ts.Add(time.Duration(i)*time.Second), groupNames(3), 1, int64(i)))
	}
	if n := len(s.Requests()); n != 0 {
		t.Fatalf("%d requests before the period ended", n)
	}
	// Stop publishes what the period holds: the last poll, once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	ds := s.Datums()
	seen := map[string]bool{}
	for _, d := range ds {
		k := fmt.Sprint(d.MetricName, d.Dimensions)
		if seen[k] || !d.Timestamp.Equal(ts.Add(4*time.Second)) {
			t.Fatalf("datum %+v twice or not of the last poll", d)
		}
		seen[k] = true
	}
	if len(ds) != 2+3*(2+3) {
		t.Fatalf("%d datums, want %d", len(ds), 2+3*5)
	}
}
