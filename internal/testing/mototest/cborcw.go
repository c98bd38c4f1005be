package mototest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CloudWatchStandin is an in-process CloudWatch stand-in for the calls moto
// cannot take as production sends them: it speaks Smithy RPC v2 CBOR, the
// protocol aws-sdk-go-v2's CloudWatch client uses by default (and AWS JSON
// 1.0 for comparison), for PutMetricData, PutDashboard and PutMetricAlarm.
//
// It decodes requests with an independent CBOR library
// (github.com/fxamacker/cbor/v2, strict: unknown fields, duplicate keys and
// timestamps without tag 1 are errors), enforces CloudWatch's documented
// limits and rules (at most 1,000 datums and 1 MB per request, dimension
// values of 1 to 1,024 printable ASCII characters with a non-space,
// finite values, known units and storage resolutions) and answers a
// violation as AWS does, HTTP 400 InvalidParameterValue for the whole
// request. It records every accepted datum, every request (protocol, gzip,
// sizes, status) and every protocol error (a request that is not what the
// SDK's default client sends).
type CloudWatchStandin struct {
	URL string

	t   testing.TB
	srv *httptest.Server
	dec cbor.DecMode

	mu         sync.Mutex
	requests   []StandinRequest
	datums     []StandinDatum
	dashboards map[string]string
	alarms     map[string]StandinAlarm
	protoErrs  []string
	faults     []StandinFault
	reject     func(StandinDatum) bool
}

// StandinFault is what the stand-in answers to one PutMetricData request
// instead of taking it.
type StandinFault int

// Faults.
const (
	FaultThrottle   StandinFault = iota + 1 // HTTP 400 Throttling (retryable)
	FaultInternal                           // HTTP 500 InternalServiceError
	FaultUnavail                            // HTTP 503 ServiceUnavailable
	FaultValidation                         // HTTP 400 InvalidParameterValue
	FaultClose                              // the connection is closed without an answer
)

// StandinRequest is one request the stand-in received.
type StandinRequest struct {
	Operation string
	// Protocol is "rpc-v2-cbor" or "awsJson1_0".
	Protocol string
	Gzip     bool
	// BodyBytes is the body as sent; PayloadBytes uncompressed.
	BodyBytes, PayloadBytes int
	Datums                  int
	Status                  int
	ErrorCode               string
}

// StandinDimension is one decoded dimension.
type StandinDimension struct {
	Name  string `cbor:"Name" json:"Name"`
	Value string `cbor:"Value" json:"Value"`
}

// StandinDatum is one accepted datum.
type StandinDatum struct {
	Namespace         string
	MetricName        string
	Dimensions        []StandinDimension
	Value             float64
	Timestamp         time.Time
	Unit              string
	StorageResolution int
}

// StandinAlarm is one accepted PutMetricAlarm.
type StandinAlarm struct {
	AlarmName, Namespace, MetricName, Statistic, ComparisonOperator string
	Dimensions                                                      []StandinDimension
	Threshold                                                       float64
	Period, EvaluationPeriods                                       int
}

// wire shapes (CBOR and JSON field names are the API's member names).
type wireDatum struct {
	MetricName        *string            `cbor:"MetricName" json:"MetricName"`
	Dimensions        []StandinDimension `cbor:"Dimensions" json:"Dimensions"`
	Timestamp         *time.Time         `cbor:"Timestamp" json:"-"`
	TimestampJSON     *float64           `cbor:"-" json:"Timestamp"`
	Value             *float64           `cbor:"Value" json:"Value"`
	Unit              *string            `cbor:"Unit" json:"Unit"`
	StorageResolution *int               `cbor:"StorageResolution" json:"StorageResolution"`
}

type wirePutMetricData struct {
	Namespace  *string     `cbor:"Namespace" json:"Namespace"`
	MetricData []wireDatum `cbor:"MetricData" json:"MetricData"`
}

type wirePutDashboard struct {
	DashboardName *string `cbor:"DashboardName" json:"DashboardName"`
	DashboardBody *string `cbor:"DashboardBody" json:"DashboardBody"`
}

type wirePutMetricAlarm struct {
	AlarmName          *string            `cbor:"AlarmName"`
	AlarmDescription   *string            `cbor:"AlarmDescription"`
	Namespace          *string            `cbor:"Namespace"`
	MetricName         *string            `cbor:"MetricName"`
	Dimensions         []StandinDimension `cbor:"Dimensions"`
	Statistic          *string            `cbor:"Statistic"`
	Period             *int               `cbor:"Period"`
	EvaluationPeriods  *int               `cbor:"EvaluationPeriods"`
	Threshold          *float64           `cbor:"Threshold"`
	ComparisonOperator *string            `cbor:"ComparisonOperator"`
	TreatMissingData   *string            `cbor:"TreatMissingData"`
	AlarmActions       []string           `cbor:"AlarmActions"`
	OKActions          []string           `cbor:"OKActions"`
	ActionsEnabled     *bool              `cbor:"ActionsEnabled"`
}

// StartCloudWatchStandin starts a stand-in, closed at t.Cleanup.
func StartCloudWatchStandin(t testing.TB) *CloudWatchStandin {
	t.Helper()
	dec, err := cbor.DecOptions{
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		TimeTag:           cbor.DecTagRequired,
		IndefLength:       cbor.IndefLengthAllowed,
	}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	s := &CloudWatchStandin{t: t, dec: dec, dashboards: map[string]string{}, alarms: map[string]StandinAlarm{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Inject queues faults for the next PutMetricData requests.
func (s *CloudWatchStandin) Inject(fs ...StandinFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fs...)
}

// RejectWhen makes the stand-in reject (400 InvalidParameterValue) every
// PutMetricData request holding a datum for which f is true, as AWS does
// for a value it does not accept.
func (s *CloudWatchStandin) RejectWhen(f func(StandinDatum) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject = f
}

// Datums returns the accepted datums.
func (s *CloudWatchStandin) Datums() []StandinDatum {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StandinDatum(nil), s.datums...)
}

// Requests returns every request received.
func (s *CloudWatchStandin) Requests() []StandinRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StandinRequest(nil), s.requests...)
}

// ProtocolErrors returns what was wrong with requests that are not what
// the SDK's default client sends (wrong path, headers, encoding, payload).
func (s *CloudWatchStandin) ProtocolErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.protoErrs...)
}

// Dashboards returns the accepted dashboard bodies by name.
func (s *CloudWatchStandin) Dashboards() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.dashboards) // made in StartCloudWatchStandin: never nil
}

// Alarms returns the accepted alarms by name.
func (s *CloudWatchStandin) Alarms() map[string]StandinAlarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.alarms) // made in StartCloudWatchStandin: never nil
}

// apiError is an error answer.
type apiError struct {
	status      int
	shape, code string // Smithy error shape id and query-compatible code
	fault       string // Sender or Receiver
	msg         string
}

func invalid(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "com.amazonaws.cloudwatch#InvalidParameterValueException", "InvalidParameterValue", "Sender", fmt.Sprintf(format, a...)}
}

// errHungUp: the stand-in closed the connection without an answer (FaultClose).
var errHungUp = errors.New("connection closed without an answer")

func (s *CloudWatchStandin) serve(w http.ResponseWriter, r *http.Request) {
	req := StandinRequest{}
	raw, _ := io.ReadAll(r.Body)
	req.BodyBytes = len(raw)
	var aerr *apiError
	var out any
	payload, err := readRequest(r, raw, &req)
	if err == nil {
		out, aerr, err = s.operate(w, &req, payload)
	}
	if errors.Is(err, errHungUp) {
		return
	}
	s.mu.Lock()
	switch {
	case err != nil: // a protocol error: not what the SDK's default client sends
		s.protoErrs = append(s.protoErrs, err.Error())
		req.Status = http.StatusBadRequest
	case aerr != nil:
		req.Status, req.ErrorCode = aerr.status, aerr.code
	default:
		req.Status = http.StatusOK
	}
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if err != nil {
		s.t.Logf("cloudwatch stand-in: protocol error: %s", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.answer(w, req.Protocol, aerr, out)
}

// readRequest checks the protocol, method and signature of a request, fills
// req's protocol, operation, gzip and payload size, and returns the payload.
func readRequest(r *http.Request, raw []byte, req *StandinRequest) ([]byte, error) {
	if err := identify(r, req); err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%s: method %s", req.Operation, r.Method)
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/monitoring/aws4_request") {
		return nil, fmt.Errorf("%s: Authorization %q: want a SigV4 signature for the monitoring service", req.Operation, auth)
	}
	payload := raw
	if enc := r.Header.Get("Content-Encoding"); enc != "" {
		if enc != "gzip" {
			return nil, fmt.Errorf("%s: Content-Encoding %q", req.Operation, enc)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			payload, err = io.ReadAll(zr)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %v", req.Operation, err)
		}
		req.Gzip = true
	}
	req.PayloadBytes = len(payload)
	return payload, nil
}

// identify sets the request's protocol and operation from its path and headers.
func identify(r *http.Request, req *StandinRequest) error {
	switch {
	case strings.HasPrefix(r.URL.Path, "/service/"):
		req.Protocol = "rpc-v2-cbor"
		const prefix = "/service/GraniteServiceVersion20100801/operation/"
		if !strings.HasPrefix(r.URL.Path, prefix) {
			return fmt.Errorf("path %q: want %s<Operation>", r.URL.Path, prefix)
		}
		req.Operation = strings.TrimPrefix(r.URL.Path, prefix)
		for h, want := range map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
			"Accept": "application/cbor", "X-Amzn-Query-Mode": "true"} {
			if got := r.Header.Get(h); got != want {
				return fmt.Errorf("%s: header %s = %q, want %q", req.Operation, h, got, want)
			}
		}
	case r.Header.Get("X-Amz-Target") != "":
		req.Protocol = "awsJson1_0"
		req.Operation = strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "GraniteServiceVersion20100801.")
		if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
			return fmt.Errorf("%s: Content-Type %q", req.Operation, ct)
		}
	default:
		return fmt.Errorf("%s %s: neither RPC v2 CBOR nor AWS JSON 1.0 (Content-Type %q)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	return nil
}

// operate runs one operation: its answer, or an API error, or a protocol
// error (err), or errHungUp when an injected fault closed the connection.
func (s *CloudWatchStandin) operate(w http.ResponseWriter, req *StandinRequest, payload []byte) (any, *apiError, error) {
	decode := func(v any) error {
		var err error
		if req.Protocol == "rpc-v2-cbor" {
			err = s.dec.Unmarshal(payload, v)
		} else {
			d := json.NewDecoder(bytes.NewReader(payload))
			d.DisallowUnknownFields()
			err = d.Decode(v)
		}
		if err != nil {
			return fmt.Errorf("%s: decode: %v", req.Operation, err)
		}
		return nil
	}
	switch req.Operation {
	case "PutMetricData":
		var in wirePutMetricData
		if err := decode(&in); err != nil {
			return nil, nil, err
		}
		aerr, err := s.putMetricData(w, &in, req)
		return map[string]any{}, aerr, err
	case "PutDashboard":
		var in wirePutDashboard
		if err := decode(&in); err != nil {
			return nil, nil, err
		}
		out, aerr := s.putDashboard(&in)
		return out, aerr, nil
	case "PutMetricAlarm":
		if req.Protocol != "rpc-v2-cbor" {
			return nil, nil, fmt.Errorf("PutMetricAlarm over %s is not emulated", req.Protocol)
		}
		var in wirePutMetricAlarm
		if err := decode(&in); err != nil {
			return nil, nil, err
		}
		a, aerr := checkAlarm(&in)
		if aerr == nil {
			s.mu.Lock()
			s.alarms[a.AlarmName] = a
			s.mu.Unlock()
		}
		return map[string]any{}, aerr, nil
	}
	return nil, nil, fmt.Errorf("operation %q is not emulated", req.Operation)
}

// putMetricData checks and records the datums of one request, applying the
// next injected fault and the rejection rule (errHungUp: FaultClose).
func (s *CloudWatchStandin) putMetricData(w http.ResponseWriter, in *wirePutMetricData, req *StandinRequest) (*apiError, error) {
	ds, aerr := s.checkPutMetricData(in, req)
	if aerr != nil {
		return aerr, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		if f == FaultClose {
			req.Status = -1
			s.requests = append(s.requests, *req)
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
				}
			}
			return nil, errHungUp
		}
		if aerr = faultError(f); aerr != nil {
			return aerr, nil
		}
	}
	if s.reject != nil {
		for _, d := range ds {
			if s.reject(d) {
				return invalid("The value %v for parameter MetricData.Dimensions is invalid.", d.Dimensions), nil
			}
		}
	}
	s.datums = append(s.datums, ds...)
	return nil, nil
}

// putDashboard stores a dashboard whose body is JSON with widgets.
func (s *CloudWatchStandin) putDashboard(in *wirePutDashboard) (any, *apiError) {
	if in.DashboardName == nil || in.DashboardBody == nil {
		return nil, invalid("DashboardName and DashboardBody are required")
	}
	var body struct {
		Widgets []map[string]any `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(*in.DashboardBody), &body); err != nil || len(body.Widgets) == 0 {
		return nil, &apiError{http.StatusBadRequest, "com.amazonaws.cloudwatch#DashboardInvalidInputError", "InvalidParameterInput", "Sender", fmt.Sprintf("dashboard body: %v", err)}
	}
	s.mu.Lock()
	s.dashboards[*in.DashboardName] = *in.DashboardBody
	s.mu.Unlock()
	return map[string]any{"DashboardValidationMessages": []any{}}, nil
}

func faultError(f StandinFault) *apiError {
	switch f {
	case FaultThrottle:
		return &apiError{http.StatusBadRequest, "com.amazon.coral.availability#ThrottlingException", "Throttling", "Sender", "Rate exceeded"}
	case FaultInternal:
		return &apiError{http.StatusInternalServerError, "com.amazonaws.cloudwatch#InternalServiceFault", "InternalServiceError", "Receiver", "injected"}
	case FaultUnavail:
		return &apiError{http.StatusServiceUnavailable, "com.amazon.coral.availability#ServiceUnavailableException", "ServiceUnavailable", "Receiver", "injected"}
	case FaultValidation:
		return invalid("injected")
	}
	return nil
}

// answer writes a success (out) or an error in the request's protocol.
func (s *CloudWatchStandin) answer(w http.ResponseWriter, protocol string, aerr *apiError, out any) {
	status := http.StatusOK
	if aerr != nil {
		status = aerr.status
		w.Header().Set("X-Amzn-Query-Error", aerr.code+";"+aerr.fault)
		out = map[string]any{"__type": aerr.shape, "message": aerr.msg}
	}
	if protocol == "rpc-v2-cbor" {
		b, err := cbor.Marshal(out)
		if err != nil {
			s.t.Errorf("cloudwatch stand-in: encode: %v", err)
		}
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

var standardUnits = map[string]bool{}

func init() {
	for _, u := range strings.Fields(`Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes
		Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second
		Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second
		Terabits/Second Count/Second None`) {
		standardUnits[u] = true
	}
}

// validDimensionValue is CloudWatch's rule for a dimension value, written
// here independently of the publisher's: 1 to 1,024 characters, ASCII
// without control characters, not only whitespace.
func validDimensionValue(v string) bool {
	if len(v) < 1 || len(v) > 1024 || strings.TrimSpace(v) == "" {
		return false
	}
	for _, r := range v {
		if r > 126 || r < 32 {
			return false
		}
	}
	return true
}

func (s *CloudWatchStandin) checkPutMetricData(in *wirePutMetricData, req *StandinRequest) ([]StandinDatum, *apiError) {
	if req.PayloadBytes > 1_000_000 {
		return nil, &apiError{http.StatusRequestEntityTooLarge, "com.amazonaws.cloudwatch#RequestEntityTooLarge", "RequestEntityTooLarge", "Sender", "payload over 1 MB"}
	}
	if in.Namespace == nil || len(*in.Namespace) == 0 || len(*in.Namespace) > 255 || strings.HasPrefix(*in.Namespace, "AWS/") {
		return nil, invalid("Namespace %v", in.Namespace)
	}
	req.Datums = len(in.MetricData)
	if len(in.MetricData) == 0 || len(in.MetricData) > 1000 {
		return nil, invalid("The collection MetricData must not have a size greater than 1000 (has %d).", len(in.MetricData))
	}
	out := make([]StandinDatum, 0, len(in.MetricData))
	for i, d := range in.MetricData {
		where := fmt.Sprintf("MetricData.member.%d", i+1)
		if d.MetricName == nil || len(*d.MetricName) == 0 || len(*d.MetricName) > 255 {
			return nil, invalid("%s.MetricName is required", where)
		}
		if len(d.Dimensions) > 30 {
			return nil, invalid("%s.Dimensions: at most 30", where)
		}
		for _, dim := range d.Dimensions {
			if dim.Name == "" || len(dim.Name) > 255 || !validDimensionValue(dim.Name) || strings.HasPrefix(dim.Name, ":") {
				return nil, invalid("The value %q for parameter %s.Dimensions.Name is invalid.", dim.Name, where)
			}
			if !validDimensionValue(dim.Value) {
				return nil, invalid("The value %q for parameter %s.Dimensions.Value is invalid.", dim.Value, where)
			}
		}
		if d.Value == nil || math.IsNaN(*d.Value) || math.IsInf(*d.Value, 0) {
			return nil, invalid("%s.Value: a finite value is required", where)
		}
		sd := StandinDatum{Namespace: *in.Namespace, MetricName: *d.MetricName, Dimensions: d.Dimensions, Value: *d.Value}
		switch {
		case d.Timestamp != nil:
			// Epoch seconds as a float: CloudWatch keeps milliseconds.
			sd.Timestamp = d.Timestamp.Round(time.Millisecond)
		case d.TimestampJSON != nil:
			sd.Timestamp = time.UnixMilli(int64(math.Round(*d.TimestampJSON * 1000)))
		default:
			return nil, invalid("%s.Timestamp: the stand-in expects one", where)
		}
		if d.Unit != nil {
			if !standardUnits[*d.Unit] {
				return nil, invalid("%s.Unit %q", where, *d.Unit)
			}
			sd.Unit = *d.Unit
		}
		if d.StorageResolution != nil {
			if *d.StorageResolution != 1 && *d.StorageResolution != 60 {
				return nil, invalid("%s.StorageResolution %d", where, *d.StorageResolution)
			}
			sd.StorageResolution = *d.StorageResolution
		}
		out = append(out, sd)
	}
	return out, nil
}

func checkAlarm(in *wirePutMetricAlarm) (StandinAlarm, *apiError) {
	if in.AlarmName == nil || len(*in.AlarmName) == 0 || len(*in.AlarmName) > 255 {
		return StandinAlarm{}, invalid("AlarmName: 1 to 255 characters")
	}
	for _, r := range *in.AlarmName {
		if r < 32 || r == 127 {
			return StandinAlarm{}, invalid("AlarmName: no control characters")
		}
	}
	if in.MetricName == nil || in.Namespace == nil || in.Period == nil || in.EvaluationPeriods == nil ||
		in.Threshold == nil || in.ComparisonOperator == nil || in.Statistic == nil {
		return StandinAlarm{}, invalid("MetricName, Namespace, Statistic, Period, EvaluationPeriods, Threshold and ComparisonOperator are required")
	}
	for _, dim := range in.Dimensions {
		if !validDimensionValue(dim.Value) {
			return StandinAlarm{}, invalid("The value %q for parameter Dimensions.Value is invalid.", dim.Value)
		}
	}
	return StandinAlarm{AlarmName: *in.AlarmName, Namespace: *in.Namespace, MetricName: *in.MetricName,
		Statistic: *in.Statistic, ComparisonOperator: *in.ComparisonOperator, Dimensions: in.Dimensions,
		Threshold: *in.Threshold, Period: *in.Period, EvaluationPeriods: *in.EvaluationPeriods}, nil
}
