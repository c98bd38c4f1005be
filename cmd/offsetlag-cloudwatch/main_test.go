package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/offsetlag/offsetlag/internal/testing/mototest"
)

var seedArgs = []string{"--region", "us-east-1", "--cluster-name", "prod", "--lambda-function", "factor",
	"--msk-cluster", "msk1", "--topic", "orders", "--alarm-on", "orders-consumer/orders", "--alarm-on", "a/b/c/t2",
	"--expiry-warning", "24h", "--max-lag-threshold", "500"}

func TestDryRunPrintsDashboardAndAlarms(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), append([]string{"--dry-run"}, seedArgs...), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		DashboardName string
		DashboardBody struct {
			Widgets []struct {
				Type       string
				Properties struct {
					Title   string
					Metrics []json.RawMessage
				}
			} `json:"widgets"`
		}
		Alarms []struct {
			AlarmName, MetricName, Namespace, Statistic, ComparisonOperator string
			Threshold                                                       float64
			Dimensions                                                      []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	var titles []string
	for _, w := range got.DashboardBody.Widgets {
		titles = append(titles, w.Properties.Title)
	}
	all := strings.Join(titles, "|")
	for _, want := range []string{"MaxOffsetLag", "SumOffsetLag", "EstimatedMaxTimeLag", "MaxRecordAge", "expir", "Lambda OffsetLag: factor",
		"Lambda Duration: factor", "Lambda Errors and Invocations: factor", "MSK BytesInPerSec: msk1"} {
		if !strings.Contains(all, want) {
			t.Errorf("no widget %q in %s", want, all)
		}
	}
	body := out.String()
	// Lag widgets are top-N Metrics Insights queries: correct past 500
	// series, unlike SEARCH.
	for _, want := range []string{
		`SELECT MAX(MaxOffsetLag) FROM SCHEMA(\"offsetlag\", \"Cluster Name\", \"Consumer Group\", \"Topic\") WHERE \"Cluster Name\" = 'prod' GROUP BY \"Consumer Group\", \"Topic\" ORDER BY MAX() DESC LIMIT 20`,
		`SELECT MIN(SecondsUntilOffsetExpiry) FROM SCHEMA(\"offsetlag\", \"Cluster Name\", \"Consumer Group\", \"Topic\") WHERE \"Cluster Name\" = 'prod' GROUP BY \"Consumer Group\", \"Topic\" ORDER BY MIN() ASC LIMIT 20`,
		`SELECT MAX(SumOffsetLag) FROM SCHEMA(\"offsetlag\", \"Cluster Name\", \"Consumer Group\") WHERE \"Cluster Name\" = 'prod' GROUP BY \"Consumer Group\" ORDER BY MAX() DESC LIMIT 20`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if strings.Contains(body, "SEARCH('{offsetlag") {
		t.Error("a lag widget still uses SEARCH (500 series at most)")
	}
	for _, want := range []string{`"AWS/Lambda",`, `"OffsetLag",`, `"FunctionName",`, `\"Broker ID\"`, `Topic=\"orders\"`, `MetricName=\"BytesInPerSec\"`} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	// 3 alarms per target; the group "a/b/c" keeps its slashes.
	if len(got.Alarms) != 6 {
		t.Fatalf("%d alarms", len(got.Alarms))
	}
	a := got.Alarms[0]
	if a.MetricName != "MaxOffsetLag" || a.Threshold != 500 || a.ComparisonOperator != "GreaterThanThreshold" ||
		a.Namespace != "offsetlag" || fmt.Sprint(a.Dimensions) != "[{Cluster Name prod} {Consumer Group orders-consumer} {Topic orders}]" {
		t.Errorf("lag alarm %+v", a)
	}
	if e := got.Alarms[1]; e.MetricName != "SecondsUntilOffsetExpiry" || e.Threshold != 86400 || e.ComparisonOperator != "LessThanThreshold" || e.Statistic != "Minimum" {
		t.Errorf("expiry alarm %+v", e)
	}
	if e := got.Alarms[2]; e.MetricName != "OffsetsExpired" || e.Threshold != 1 {
		t.Errorf("expired alarm %+v", e)
	}
	if d := got.Alarms[3].Dimensions; d[1].Value != "a/b/c" || d[2].Value != "t2" {
		t.Errorf("target split %v", d)
	}
}

func TestUsageErrors(t *testing.T) {
	mototest.HermeticAWSEnv(t)
	t.Setenv("AWS_REGION", "") // "no region" below must not find the caller's
	for _, args := range [][]string{
		{"--dry-run", "--region", "r", "--alarm-on", "nogroup"},
		{"--dry-run", "--region", "r", "--lambda-function", "f"},
		{"--dry-run", "--region", "r", "--alarm-on", "g/t"}, // alarms need --cluster-name
		{"--dry-run"}, // no region
		{"--dry-run", "--region", "r", "--protocol", "xml"},
		{"--dry-run", "--region", "r", "--top", "501"},
		{"--dry-run", "--region", "r", "--cluster-name", "c", "--alarm-on", strings.Repeat("g", 240) + "/t"}, // alarm name > 255
		{"--dry-run", "--region", "r", "--cluster-name", "c", "--alarm-prefix", "a\tb", "--alarm-on", "g/t"}, // control character
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
}

// The dashboard and alarms are accepted by moto's PutDashboard and
// PutMetricAlarm and read back unchanged.
func TestProvisionAgainstMoto(t *testing.T) {
	ep := mototest.Start(t)
	mototest.HermeticAWSEnv(t)
	dash := fmt.Sprintf("offsetlag-%d", time.Now().UnixNano())
	var out, errOut bytes.Buffer
	args := append([]string{"--endpoint", ep, "--protocol", "json", "--dashboard-name", dash}, seedArgs...)
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var dry bytes.Buffer
	run(context.Background(), append([]string{"--dry-run"}, seedArgs...), &dry, &errOut)
	var want struct{ DashboardBody json.RawMessage }
	if err := json.Unmarshal(dry.Bytes(), &want); err != nil {
		t.Fatal(err)
	}

	cw := mototest.CloudWatch(ep)
	got, err := cw.GetDashboard(context.Background(), &awscw.GetDashboardInput{DashboardName: aws.String(dash)})
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal([]byte(aws.ToString(got.DashboardBody)), &a)
	_ = json.Unmarshal(want.DashboardBody, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("stored dashboard differs:\n%v\n%v", a, b)
	}
	alarms, err := cw.DescribeAlarms(context.Background(), &awscw.DescribeAlarmsInput{AlarmNamePrefix: aws.String("offsetlag ")})
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms.MetricAlarms) != 6 {
		t.Fatalf("%d alarms in moto", len(alarms.MetricAlarms))
	}
	names := map[string]bool{}
	for _, a := range alarms.MetricAlarms {
		names[aws.ToString(a.AlarmName)] = true
		if aws.ToString(a.Namespace) != "offsetlag" || len(a.Dimensions) != 3 {
			t.Errorf("alarm %s: namespace %s dims %d", aws.ToString(a.AlarmName), aws.ToString(a.Namespace), len(a.Dimensions))
		}
	}
	if !names["offsetlag MaxOffsetLag prod/orders-consumer/orders"] || !names["offsetlag OffsetsExpired prod/a/b/c/t2"] {
		t.Errorf("alarm names %v", names)
	}
}

// The default client (Smithy RPC v2 CBOR) provisions the dashboard and the
// alarms on the CBOR stand-in; a group name CloudWatch rejects is alarmed
// on under its mapped dimension value, as the exporter publishes it.
func TestProvisionDefaultProtocol(t *testing.T) {
	s := mototest.StartCloudWatchStandin(t)
	mototest.HermeticAWSEnv(t)
	var out, errOut bytes.Buffer
	args := append([]string{"--endpoint", s.URL, "--dashboard-name", "lag", "--alarm-on", "café-orders/orders"}, seedArgs...)
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if errs := s.ProtocolErrors(); len(errs) > 0 {
		t.Fatalf("protocol errors %v", errs)
	}
	for _, rq := range s.Requests() {
		if rq.Protocol != "rpc-v2-cbor" || rq.Status != 200 {
			t.Errorf("request %+v", rq)
		}
	}
	var dry bytes.Buffer
	run(context.Background(), append([]string{"--dry-run", "--alarm-on", "café-orders/orders"}, seedArgs...), &dry, &errOut)
	var want struct{ DashboardBody json.RawMessage }
	if err := json.Unmarshal(dry.Bytes(), &want); err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal([]byte(s.Dashboards()["lag"]), &a)
	_ = json.Unmarshal(want.DashboardBody, &b)
	if a == nil || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("stored dashboard differs:\n%v\n%v", a, b)
	}
	alarms := s.Alarms()
	if len(alarms) != 9 {
		t.Fatalf("%d alarms", len(alarms))
	}
	cafe := alarms["offsetlag MaxOffsetLag prod/café-orders/orders"]
	if len(cafe.Dimensions) != 3 || !strings.HasPrefix(cafe.Dimensions[1].Value, `caf\u00e9-orders~`) || cafe.Threshold != 500 {
		t.Errorf("alarm on café-orders: %+v", cafe)
	}
}
