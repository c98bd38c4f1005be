package cloudwatch

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"net/http"
)

func datums(n int, prio func(i int) Priority) []Datum {
	out := make([]Datum, n)
	for i := range out {
		out[i] = Datum{Name: fmt.Sprint("m", i), Value: float64(i), Priority: prio(i),
			Dimensions: []Dimension{{DimClusterName, "c"}}}
	}
	return out
}

func TestApplyBudget(t *testing.T) {
	// Even indexes are per-partition, odd ones lag aggregates.
	ds := datums(10, func(i int) Priority { return Priority(i % 2 * int(PriorityLag)) })
	for _, tc := range []struct {
		name        string
		budget      int
		wantKept    []float64
		wantDropped int
	}{
		{"no budget", 0, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0},
		{"within", 10, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0},
		{"drops partitions first, keeps order", 7, []float64{0, 1, 2, 3, 5, 7, 9}, 3},
		{"only aggregates", 5, []float64{1, 3, 5, 7, 9}, 5},
		{"fewer than the aggregates", 2, []float64{1, 3}, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kept, dropped := applyBudget(ds, tc.budget)
			var got []float64
			for _, d := range kept {
				got = append(got, d.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantKept) || dropped != tc.wantDropped {
				t.Fatalf("kept %v dropped %d, want %v %d", got, dropped, tc.wantKept, tc.wantDropped)
			}
		})
	}
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

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    Datum
		want bool
	}{
		{"ok", Datum{Value: 1, Dimensions: []Dimension{{"a", "b"}}}, true},
		{"NaN", Datum{Value: math.NaN()}, false},
		{"+Inf", Datum{Value: math.Inf(1)}, false},
		{"-Inf", Datum{Value: math.Inf(-1)}, false},
		{"empty dimension value", Datum{Dimensions: []Dimension{{"a", ""}}}, false},
		{"1024 characters", Datum{Dimensions: []Dimension{{"a", strings.Repeat("é", 1024)}}}, true},
		{"1025 characters", Datum{Dimensions: []Dimension{{"a", strings.Repeat("x", 1025)}}}, false},
		{"invalid UTF-8 repaired", Datum{Dimensions: []Dimension{{"a", "x\xffy"}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := valid(&tc.d); got != tc.want {
				t.Fatalf("valid = %v", got)
			}
			if tc.want {
				for _, d := range tc.d.Dimensions {
					if strings.Contains(d.Value, "\xff") {
						t.Fatal("invalid UTF-8 kept")
					}
				}
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	minB, maxB := 100*time.Millisecond, 2*time.Second
	for attempt, wantMax := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		3: 400 * time.Millisecond, 5: 1600 * time.Millisecond, 6: 2 * time.Second, 40: 2 * time.Second} {
		for range 50 {
			d := backoff(attempt, minB, maxB)
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryable(tc.err); got != tc.want {
				t.Fatalf("retryable(%v) = %v", tc.err, got)
			}
		})
	}
}
