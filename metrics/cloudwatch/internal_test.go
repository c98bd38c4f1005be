package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/offsetlag/offsetlag/exporter/result"
)

func datums(n int, prio func(i int) Priority) []Datum {
	out := make([]Datum, n)
	for i := range out {
		out[i] = Datum{Name: fmt.Sprint("m", i), Value: float64(i), Priority: prio(i),
			Dimensions: []Dimension{{DimClusterName, fmt.Sprint("c", i)}}}
	}
	return out
}

func TestApplyBudget(t *testing.T) {
	// Even indexes are per-partition, odd ones group+topic; the score is
	// the index (the lag).
	ds := datums(10, func(i int) Priority { return Priority(i % 2 * int(PriorityGroupTopic)) })
	for i := range ds {
		ds[i].Score = float64(i)
	}
	for _, tc := range []struct {
		name        string
		budget      int
		wantKept    []float64
		wantDropped int
	}{
		{"no budget", 0, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0},
		{"within", 10, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0},
		{"drops partitions first, smallest lag first, keeps order", 7, []float64{1, 3, 5, 6, 7, 8, 9}, 3},
		{"only group+topic", 5, []float64{1, 3, 5, 7, 9}, 5},
		{"largest lag first", 2, []float64{7, 9}, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kept, cut := applyBudget(ds, tc.budget, 1)
			var got []float64
			for _, d := range kept {
				got = append(got, d.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantKept) || len(cut) != tc.wantDropped {
				t.Fatalf("kept %v dropped %d, want %v %d", got, len(cut), tc.wantKept, tc.wantDropped)
			}
		})
	}
	t.Run("ties rotate by epoch, stable within one", func(t *testing.T) {
		ds := datums(100, func(int) Priority { return PriorityGroupTopic })
		pick := func(epoch int64) string {
			kept, _ := applyBudget(ds, 10, epoch)
			var got []float64
			for _, d := range kept {
				got = append(got, d.Value)
			}
			return fmt.Sprint(got)
		}
		if first, again := pick(7), pick(7); first != again {
			t.Fatal("not stable within an epoch")
		}
		distinct := map[string]bool{}
		for e := int64(0); e < 5; e++ {
			distinct[pick(e)] = true
		}
		if len(distinct) < 4 {
			t.Fatalf("only %d distinct choices over 5 epochs", len(distinct))
		}
		if pick(0) == "[0 1 2 3 4 5 6 7 8 9]" {
			t.Fatal("ties resolved by position")
		}
	})
}

func TestChunkLimits(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		cs := chunk(datums(2500, func(int) Priority { return 0 }), "ns", MaxDatumsPerRequest, MaxRequestBytes)
		if len(cs) != 3 || len(cs[0]) != 1000 || len(cs[1]) != 1000 || len(cs[2]) != 500 {
			t.Fatalf("chunks %d", len(cs))
		}
	})
	t.Run("bytes", func(t *testing.T) {
		// 1,024-character dimension values: about 13 KB each estimated.
		ds := datums(300, func(int) Priority { return 0 })
		for i := range ds {
			ds[i].Dimensions = []Dimension{{DimClusterName, strings.Repeat("c", 1024)},
				{DimConsumerGroup, strings.Repeat("g", 1024)}, {DimTopic, strings.Repeat("t", 249)},
				{DimPartition, "12345"}}
		}
		cs := chunk(ds, "ns", MaxDatumsPerRequest, MaxRequestBytes)
		total := 0
		for _, c := range cs {
			size := requestOverhead("ns")
			for i := range c {
				size += estimateSize(&c[i])
			}
			if size > MaxRequestBytes {
				t.Errorf("chunk of %d datums estimated at %d bytes", len(c), size)
			}
			// The real JSON is far below the estimate.
			total += len(c)
		}
		if len(cs) < 2 || total != 300 {
			t.Fatalf("%d chunks, %d datums", len(cs), total)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if cs := chunk(nil, "ns", 1000, MaxRequestBytes); len(cs) != 0 {
			t.Fatal(cs)
		}
	})
}

func TestDimensionValues(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		valid    bool
		wantPfx  string
	}{
		{"ascii", "orders-consumer.v2", true, "orders-consumer.v2"},
		{"spaces inside", "my group", true, "my group"},
		{"1024", strings.Repeat("x", 1024), true, strings.Repeat("x", 1024)},
		{"latin", "café-orders", false, `caf\u00e9-orders~`},
		{"cyrillic", "заказы", false, `\u0437\u0430\u043a\u0430\u0437\u044b~`},
		{"emoji", "g🚀", false, `g\U0001f680~`},
		{"spaces only", "   ", false, `\u0020\u0020\u0020~`},
		{"empty", "", false, "~"},
		{"tab", "a\tb", false, `a\u0009b~`},
		{"DEL", "a\x7fb", false, `a\u007fb~`},
		{"invalid UTF-8", "x\xffy", false, `x\xffy~`},
		{"1025", strings.Repeat("x", 1025), false, strings.Repeat("x", 1015) + "~"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidDimensionValue(tc.in); got != tc.valid {
				t.Fatalf("ValidDimensionValue = %v", got)
			}
			m := MapDimensionValue(tc.in)
			if !ValidDimensionValue(m) {
				t.Fatalf("mapped value %q is not valid", m)
			}
			if tc.valid && m != tc.in {
				t.Fatalf("valid value changed to %q", m)
			}
			if !strings.HasPrefix(m, tc.wantPfx) {
				t.Fatalf("mapped %q, want prefix %q", m, tc.wantPfx)
			}
			if !tc.valid && len(m) != len(tc.wantPfx)+8 {
				t.Fatalf("mapped %q: want the prefix and an 8-digit hash", m)
			}
		})
	}
	// Distinct names never share a mapped value, even when one is the
	// other's escaped spelling.
	if MapDimensionValue("café") == MapDimensionValue(`caf\u00e9`) || MapDimensionValue("café") == MapDimensionValue("cafè") {
		t.Fatal("collision")
	}
}

// The SDK retryer waits MinBackoff doubled per retry, capped at MaxBackoff,
// less a random part of up to half; it retries MaxAttempts-1 times.
func TestRetryerBackoff(t *testing.T) {
	minB, maxB := 100*time.Millisecond, 2*time.Second
	r := newRetryer(&Options{Config: Config{MaxAttempts: 4}, MinBackoff: minB, MaxBackoff: maxB})
	if n := r.MaxAttempts(); n != 4 {
		t.Errorf("MaxAttempts %d, want 4", n)
	}
	for attempt, wantMax := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		3: 400 * time.Millisecond, 5: 1600 * time.Millisecond, 6: 2 * time.Second, 40: 2 * time.Second} {
		for range 50 {
			d, err := r.RetryDelay(attempt, errors.New("x"))
			if err != nil {
				t.Fatal(err)
			}
			if d < wantMax/2 || d > wantMax {
				t.Fatalf("attempt %d: backoff %s outside [%s, %s]", attempt, d, wantMax/2, wantMax)
			}
		}
	}
}

func TestRetryable(t *testing.T) {
	resp := func(status int, code string) error {
		return &smithy.OperationError{ServiceID: "CloudWatch", OperationName: "PutMetricData", Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err: &smithy.GenericAPIError{Code: code, Message: "x"}}}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"throttling 400", resp(400, "Throttling"), true},
		{"ThrottlingException", resp(400, "ThrottlingException"), true},
		{"500", resp(500, "InternalFailure"), true},
		{"503", resp(503, "ServiceUnavailable"), true},
		{"validation 400", resp(400, "InvalidParameterValue"), false},
		{"missing parameter", resp(400, "MissingParameter"), false},
		{"403", resp(403, "AccessDenied"), false},
		{"connection refused", &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}}, true},
		// The SDK reports a context error during the send as a cancellation:
		// an attempt's own timeout is retried, Stop's abort is not.
		{"attempt timed out", &smithy.OperationError{Err: &smithy.CanceledError{Err: context.DeadlineExceeded}}, true},
		{"aborted", &smithy.OperationError{Err: &smithy.CanceledError{Err: context.Canceled}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryable(tc.err); got != tc.want {
				t.Fatalf("retryable(%v) = %v", tc.err, got)
			}
			if got := newRetryer(&Options{Config: Config{MaxAttempts: 2}}).IsErrorRetryable(tc.err); got != tc.want {
				t.Fatalf("retryer: IsErrorRetryable(%v) = %v", tc.err, got)
			}
		})
	}
}

func TestRateTracker(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	poll := func(at time.Time, readAt time.Time, committed ...int64) *result.ClusterResult {
		gt := result.GroupTopicResult{Topic: "t"}
		for p, c := range committed {
			gt.Partitions = append(gt.Partitions, result.PartitionLag{Partition: int32(p), Committed: c})
		}
		return &result.ClusterResult{Name: "c", LastSuccess: at,
			Groups: []result.GroupResult{{Name: "g", ReadAt: readAt, Topics: []result.GroupTopicResult{gt}}}}
	}
	rt := newRateTracker(time.Minute)
	rate := rt.rate("c")
	rt.observe(poll(t0, t0, 100, 100))
	if _, ok := rate("g", "t", 0); ok {
		t.Fatal("rate after one poll")
	}
	rt.observe(poll(t0.Add(30*time.Second), time.Time{}, 130, 100))
	if _, ok := rate("g", "t", 0); ok {
		t.Fatal("rate before the window")
	}
	rt.observe(poll(t0.Add(60*time.Second), time.Time{}, 160, 100))
	if r, ok := rate("g", "t", 0); !ok || r != 1 {
		t.Fatalf("rate %v %v, want 1/s", r, ok)
	}
	if r, ok := rate("g", "t", 1); !ok || r != 0 {
		t.Fatalf("idle partition: %v %v, want 0", r, ok)
	}
	// Carried data (read 60 s before the poll) is sampled when read: no
	// new window yet, the rate stays.
	rt.observe(poll(t0.Add(120*time.Second), t0.Add(60*time.Second), 160, 100))
	if r, _ := rate("g", "t", 0); r != 1 {
		t.Fatalf("carried data changed the rate to %v", r)
	}
	// A rewind forgets the partition; a vanished one is pruned.
	rt.observe(poll(t0.Add(180*time.Second), time.Time{}, 10))
	if _, ok := rate("g", "t", 0); ok {
		t.Fatal("rate kept across a rewind")
	}
	if _, ok := rt.m[rateKey{"c", "g", "t", 1}]; ok {
		t.Fatal("vanished partition kept")
	}
}
