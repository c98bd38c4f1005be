package lambdaesm_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
)

// standIn answers ListEventSourceMappings (GET
// /2015-03-31/event-source-mappings/) from JSON documents shaped as the
// Lambda API reference shows them (EventSourceMappingConfiguration), with
// Marker/NextMarker pagination (MaxItems per page) and, on demand, 429
// TooManyRequestsException throttling or 403 AccessDeniedException.
type standIn struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	mappings  []map[string]any
	throttle  int  // answer the next n requests with 429
	deny      bool // answer every request with 403
	requests  int
	throttled int
	markers   []string // Marker of each answered request
	maxItems  []string
}

func newStandIn(t *testing.T, mappings ...map[string]any) *standIn {
	s := &standIn{t: t, mappings: mappings}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *standIn) set(mappings ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mappings = mappings
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	// The reference writes the path with a trailing slash; the SDK sends it
	// without one. Lambda answers both.
	if r.Method != http.MethodGet || strings.TrimSuffix(r.URL.Path, "/") != "/2015-03-31/event-source-mappings" {
		s.t.Errorf("stand-in: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		s.t.Errorf("stand-in: request not signed: %q", r.Header.Get("Authorization"))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "00000000-0000-0000-0000-"+strconv.Itoa(100000000000+s.requests))
	switch {
	case s.deny:
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"Message":"User: arn:aws:sts::123456789012:assumed-role/offsetlag/x is not authorized to perform: lambda:ListEventSourceMappings"}`))
		return
	case s.throttle > 0:
		s.throttle--
		s.throttled++
		w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}`))
		return
	}
	q := r.URL.Query()
	s.markers = append(s.markers, q.Get("Marker"))
	s.maxItems = append(s.maxItems, q.Get("MaxItems"))
	start := 0
	if m := q.Get("Marker"); m != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(m, "page-"))
		if err != nil || !strings.HasPrefix(m, "page-") {
			w.Header().Set("X-Amzn-Errortype", "InvalidParameterValueException")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"Type":"User","message":"Invalid marker"}`))
			return
		}
		start = n
	}
	size := 100
	if m, err := strconv.Atoi(q.Get("MaxItems")); err == nil && m > 0 {
		size = m
	}
	// Pages of at most 2 whatever MaxItems says, to exercise pagination.
	size = min(size, 2)
	end := min(start+size, len(s.mappings))
	page := map[string]any{"EventSourceMappings": s.mappings[start:end]}
	if end < len(s.mappings) {
		page["NextMarker"] = "page-" + strconv.Itoa(end)
	}
	_ = json.NewEncoder(w).Encode(page)
}

// awsConfig is a static-credential configuration for the stand-in.
func awsConfig() *aws.Config {
	return &aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
}

// fastRetries keeps the SDK's standard retryer (throttling is retried) but
// with millisecond backoff.
func fastRetries(o *lambda.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.NewExponentialJitterBackoff(5 * time.Millisecond)
		so.MaxBackoff = 5 * time.Millisecond
		so.RateLimiter = ratelimit.None
	})
}

func newDiscoverer(t *testing.T, s *standIn, cfg lambdaesm.Config) *lambdaesm.Discoverer {
	t.Helper()
	cfg.AWSConfig, cfg.Endpoint = awsConfig(), s.srv.URL
	cfg.ClientOptions = append(cfg.ClientOptions, fastRetries)
	d, err := lambdaesm.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Documents as the API reference shows an EventSourceMappingConfiguration.
const (
	account = "123456789012"
	mskARN  = "arn:aws:kafka:eu-west-1:" + account + ":cluster/orders/0e4d4f5c-1111-2222-3333-444455556666-2"
)

func fnARN(name string) string { return "arn:aws:lambda:eu-west-1:" + account + ":function:" + name }

func mskMapping(uuid, fn, state, pos, group string, topics ...string) map[string]any {
	m := map[string]any{
		"UUID": uuid, "BatchSize": 100, "EventSourceArn": mskARN, "FunctionArn": fnARN(fn),
		"EventSourceMappingArn": "arn:aws:lambda:eu-west-1:" + account + ":event-source-mapping:" + uuid,
		"LastModified":          1.7e9, "LastProcessingResult": "OK", "State": state,
		"StateTransitionReason": "USER_INITIATED", "Topics": topics, "StartingPosition": pos,
		"MaximumBatchingWindowInSeconds": 0,
	}
	if group != "" {
		m["AmazonManagedKafkaEventSourceConfig"] = map[string]any{"ConsumerGroupId": group}
	}
	return m
}

func selfManagedMapping(uuid, fn, state, pos, group string, servers []string, topics ...string) map[string]any {
	m := map[string]any{
		"UUID": uuid, "BatchSize": 100, "FunctionArn": fnARN(fn) + ":live",
		"LastModified": 1.7e9, "State": state, "StateTransitionReason": "USER_INITIATED", "Topics": topics,
		"StartingPosition":       pos,
		"SelfManagedEventSource": map[string]any{"Endpoints": map[string]any{"KAFKA_BOOTSTRAP_SERVERS": servers}},
		"SourceAccessConfigurations": []any{
			map[string]any{"Type": "SASL_SCRAM_512_AUTH", "URI": "arn:aws:secretsmanager:eu-west-1:" + account + ":secret:kafka"}},
	}
	if group != "" {
		m["SelfManagedKafkaEventSourceConfig"] = map[string]any{"ConsumerGroupId": group}
	}
	return m
}

func sqsMapping(uuid, fn string) map[string]any {
	return map[string]any{"UUID": uuid, "BatchSize": 10, "FunctionArn": fnARN(fn), "State": "Enabled",
		"EventSourceArn": "arn:aws:sqs:eu-west-1:" + account + ":jobs", "LastModified": 1.7e9,
		"StateTransitionReason": "USER_INITIATED"}
}
