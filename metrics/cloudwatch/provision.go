package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// DashboardOptions describe the dashboard Dashboard builds.
type DashboardOptions struct {
	// Namespace the exporter publishes to; DefaultNamespace when empty.
	Namespace string
	// Region of the widgets (required by the dashboard body).
	Region string
	// ClusterName restricts the widgets to one exporter cluster (the
	// "Cluster Name" dimension); all clusters when empty.
	ClusterName string
	// LambdaFunction and MSKCluster, both set, add the widgets of the MSK
	// event-source blog post: Lambda OffsetLag, Duration, Errors and
	// Invocations (AWS/Lambda, FunctionName) and MSK BytesInPerSec
	// (AWS/Kafka, Cluster Name, Broker ID, Topic).
	LambdaFunction, MSKCluster string
	// Topic restricts the BytesInPerSec widget to one topic.
	Topic string
	// Period of the widgets in seconds; 60 when 0.
	Period int
	// TopN is how many series each lag widget shows (the largest; the
	// soonest for the expiry countdown); DefaultTopN when 0, at most 500.
	TopN int
}

// DefaultTopN is the series a dashboard widget shows by default.
const DefaultTopN = 20

// Dashboard is a CloudWatch dashboard body.
type Dashboard struct {
	Widgets []Widget `json:"widgets"`
}

// Widget is one dashboard widget (type metric or text).
type Widget struct {
	Type       string           `json:"type"`
	X          int              `json:"x"`
	Y          int              `json:"y"`
	Width      int              `json:"width"`
	Height     int              `json:"height"`
	Properties WidgetProperties `json:"properties"`
}

// WidgetProperties are a widget's properties.
type WidgetProperties struct {
	Title    string `json:"title,omitempty"`
	Markdown string `json:"markdown,omitempty"`
	View     string `json:"view,omitempty"`
	Region   string `json:"region,omitempty"`
	Stat     string `json:"stat,omitempty"`
	Period   int    `json:"period,omitempty"`
	// Metrics rows: an expression {"expression": ..., "id": ..., "label": ...}
	// or [namespace, name, dim, value, ..., {options}].
	Metrics []any `json:"metrics,omitempty"`
}

// insightsQuery is a CloudWatch Metrics Insights query for the top n
// series of metric by fn (MAX or MIN) over the dimensions dims, optionally
// of one cluster. Metrics Insights reads up to 10,000 metrics and orders
// them before the LIMIT, so the widget shows the n largest (or, ASC, the n
// smallest) series however many groups there are; a SEARCH expression
// returns only the first 500 series it finds, in no useful order.
func insightsQuery(namespace, metric, cluster, fn, order string, n int, dims ...string) string {
	quoted := make([]string, len(dims))
	for i, d := range dims {
		quoted[i] = `"` + d + `"`
	}
	q := fmt.Sprintf(`SELECT %s(%s) FROM SCHEMA("%s", %s)`, fn, metric, namespace, strings.Join(quoted, ", "))
	if cluster != "" {
		q += fmt.Sprintf(` WHERE "%s" = '%s'`, DimClusterName, cluster)
	}
	if len(dims) > 1 {
		q += " GROUP BY " + strings.Join(quoted[1:], ", ")
	} else {
		q += " GROUP BY " + quoted[0]
	}
	return fmt.Sprintf("%s ORDER BY %s() %s LIMIT %d", q, fn, order, n)
}

func expr(e, id string) map[string]string {
	return map[string]string{"expression": e, "id": id}
}

// BuildDashboard returns the dashboard: cluster and group total lag, the
// group+topics with the largest MaxOffsetLag, SumOffsetLag,
// EstimatedMaxTimeLag and MaxRecordAge, the soonest offset-expiry
// countdowns, expired offsets and partitions out of range, and with a
// Lambda function and MSK cluster the seed's Lambda and MSK widgets. The
// lag widgets are Metrics Insights queries ordered by value with a LIMIT
// (TopN), so they stay correct with thousands of groups and new groups
// appear by themselves.
func BuildDashboard(o DashboardOptions) (*Dashboard, error) {
	if o.Region == "" {
		return nil, errors.New("dashboard: region is required")
	}
	if (o.LambdaFunction == "") != (o.MSKCluster == "") {
		return nil, errors.New("dashboard: set both the Lambda function and the MSK cluster, or neither")
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Period <= 0 {
		o.Period = 60
	}
	if o.TopN == 0 {
		o.TopN = DefaultTopN
	}
	if o.TopN < 1 || o.TopN > 500 {
		return nil, fmt.Errorf("dashboard: top %d: want 1 to 500 series per widget", o.TopN)
	}
	if strings.ContainsAny(o.Namespace, `"'`) || strings.ContainsAny(o.ClusterName, `"'\`) {
		return nil, fmt.Errorf("dashboard: namespace %q / cluster name %q: quotes are not supported in queries", o.Namespace, o.ClusterName)
	}
	ns, cl, per, n := o.Namespace, MapDimensionValue(o.ClusterName), o.Period, o.TopN
	if o.ClusterName == "" {
		cl = ""
	}
	metric := func(title, stat string, rows ...any) Widget {
		return Widget{Type: "metric", Width: 12, Height: 6, Properties: WidgetProperties{
			Title: title, View: "timeSeries", Region: o.Region, Stat: stat, Period: per, Metrics: rows}}
	}
	title := "Kafka consumer lag (offsetlag)"
	if cl != "" {
		title += ": " + cl
	}
	gt := []string{DimClusterName, DimConsumerGroup, DimTopic}
	q := func(m, fn, order string, dims ...string) []any {
		return []any{expr(insightsQuery(ns, m, cl, fn, order, n, dims...), strings.ToLower(m[:1])+m[1:]+strings.ToLower(fn))}
	}
	ws := []Widget{
		{Type: "text", Width: 24, Height: 2, Properties: WidgetProperties{Markdown: "# " + title +
			"\nMSK-compatible metrics published by offsetlag-exporter to namespace `" + ns + "`. " +
			fmt.Sprintf("Each widget shows the top %d series (Metrics Insights, last 3 hours).", n)}},
		metric("Total lag by cluster (SumOffsetLag)", "Maximum", q(MetricSumOffsetLag, "MAX", "DESC", DimClusterName)),
		metric(fmt.Sprintf("Top %d groups by total lag (SumOffsetLag)", n), "Maximum", q(MetricSumOffsetLag, "MAX", "DESC", DimClusterName, DimConsumerGroup)),
		metric(fmt.Sprintf("Top %d group+topics by MaxOffsetLag", n), "Maximum", q(MetricMaxOffsetLag, "MAX", "DESC", gt...)),
		metric(fmt.Sprintf("Top %d group+topics by SumOffsetLag", n), "Maximum", q(MetricSumOffsetLag, "MAX", "DESC", gt...)),
		metric(fmt.Sprintf("Top %d EstimatedMaxTimeLag (seconds to drain)", n), "Maximum", q(MetricEstimatedMaxTimeLag, "MAX", "DESC", gt...)),
		metric(fmt.Sprintf("Top %d MaxRecordAge (age of the oldest unprocessed record, s)", n), "Maximum", q(MetricMaxRecordAge, "MAX", "DESC", gt...)),
		metric(fmt.Sprintf("Soonest %d offset expiries (seconds left)", n), "Minimum", q(MetricSecondsUntilOffsetExpiry, "MIN", "ASC", gt...)),
		metric("Offsets expired / partitions out of range", "Maximum",
			q(MetricOffsetsExpired, "MAX", "DESC", gt...), q(MetricPartitionsOutOfRange, "MAX", "DESC", gt...)),
	}
	if o.LambdaFunction != "" {
		fn := o.LambdaFunction
		bytesIn := fmt.Sprintf(`{AWS/Kafka,"Broker ID","Cluster Name",Topic} MetricName="BytesInPerSec" "Cluster Name"="%s"`,
			strings.ReplaceAll(o.MSKCluster, `"`, `\"`))
		if o.Topic != "" {
			bytesIn += fmt.Sprintf(` Topic="%s"`, strings.ReplaceAll(o.Topic, `"`, `\"`))
		}
		ws = append(ws,
			metric("Lambda OffsetLag: "+fn, "Average", []any{"AWS/Lambda", "OffsetLag", "FunctionName", fn}),
			metric("Lambda Duration: "+fn, "Average", []any{"AWS/Lambda", "Duration", "FunctionName", fn}),
			metric("Lambda Errors and Invocations: "+fn, "Sum",
				[]any{"AWS/Lambda", "Errors", "FunctionName", fn},
				[]any{"AWS/Lambda", "Invocations", "FunctionName", fn}),
			metric("MSK BytesInPerSec: "+o.MSKCluster, "Average",
				[]any{expr(fmt.Sprintf("SEARCH('%s', 'Average', %d)", strings.ReplaceAll(bytesIn, "'", `\'`), per), "bytesin")}),
		)
	}
	// Lay out: text on top, then two columns.
	x, y := 0, 0
	for i := range ws {
		if ws[i].Width == 24 {
			ws[i].X, ws[i].Y = 0, y
			y += ws[i].Height
			continue
		}
		ws[i].X, ws[i].Y = x, y
		if x == 0 {
			x = 12
		} else {
			x, y = 0, y+ws[i].Height
		}
	}
	return &Dashboard{Widgets: ws}, nil
}

// AlarmTarget is one group+topic to alarm on.
type AlarmTarget struct{ Group, Topic string }

// AlarmOptions describe the alarms BuildAlarms makes for each target.
type AlarmOptions struct {
	Namespace   string
	ClusterName string
	Targets     []AlarmTarget
	// MaxOffsetLag alarms when MaxOffsetLag > this (0: no lag alarm).
	MaxOffsetLag float64
	// ExpiryWarningSeconds alarms when SecondsUntilOffsetExpiry < this
	// (0: no countdown alarm).
	ExpiryWarningSeconds float64
	// OffsetsExpired alarms when OffsetsExpired >= 1.
	OffsetsExpired bool
	// Period in seconds and EvaluationPeriods (both periods must breach).
	Period, EvaluationPeriods int
	// Actions are SNS topic (or other) ARNs for ALARM and OK.
	Actions []string
	// Prefix of the alarm names; "offsetlag" when empty.
	Prefix string
}

// Alarm is a PutMetricAlarm input in the API's own field names (for
// --dry-run output and for the call).
type Alarm struct {
	AlarmName          string      `json:"AlarmName"`
	AlarmDescription   string      `json:"AlarmDescription"`
	Namespace          string      `json:"Namespace"`
	MetricName         string      `json:"MetricName"`
	Dimensions         []Dimension `json:"Dimensions"`
	Statistic          string      `json:"Statistic"`
	Period             int32       `json:"Period"`
	EvaluationPeriods  int32       `json:"EvaluationPeriods"`
	Threshold          float64     `json:"Threshold"`
	ComparisonOperator string      `json:"ComparisonOperator"`
	TreatMissingData   string      `json:"TreatMissingData"`
	AlarmActions       []string    `json:"AlarmActions,omitempty"`
	OKActions          []string    `json:"OKActions,omitempty"`
}

// BuildAlarms returns the alarms for every target.
func BuildAlarms(o AlarmOptions) ([]Alarm, error) {
	if o.ClusterName == "" {
		return nil, errors.New("alarms: the cluster name is required")
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Prefix == "" {
		o.Prefix = "offsetlag"
	}
	if o.Period <= 0 {
		o.Period = 60
	}
	if o.EvaluationPeriods <= 0 {
		o.EvaluationPeriods = 3
	}
	var out []Alarm
	for _, t := range o.Targets {
		if t.Group == "" || t.Topic == "" {
			return nil, fmt.Errorf("alarms: target %q/%q: group and topic are required", t.Group, t.Topic)
		}
		// The dimension values the exporter publishes (mapped when
		// CloudWatch would reject the names).
		dims := []Dimension{{DimClusterName, MapDimensionValue(o.ClusterName)}, {DimConsumerGroup, MapDimensionValue(t.Group)},
			{DimTopic, MapDimensionValue(t.Topic)}}
		name := func(metric string) string {
			return fmt.Sprintf("%s %s %s/%s/%s", o.Prefix, metric, o.ClusterName, t.Group, t.Topic)
		}
		a := func(metric, stat, op, missing, desc string, threshold float64, evals int) Alarm {
			return Alarm{AlarmName: name(metric), AlarmDescription: desc, Namespace: o.Namespace, MetricName: metric,
				Dimensions: dims, Statistic: stat, Period: int32(o.Period), EvaluationPeriods: int32(evals),
				Threshold: threshold, ComparisonOperator: op, TreatMissingData: missing,
				AlarmActions: o.Actions, OKActions: o.Actions}
		}
		if o.MaxOffsetLag > 0 {
			out = append(out, a(MetricMaxOffsetLag, "Maximum", "GreaterThanThreshold", "missing",
				fmt.Sprintf("Group %s is more than %g records behind on a partition of %s.", t.Group, o.MaxOffsetLag, t.Topic),
				o.MaxOffsetLag, o.EvaluationPeriods))
		}
		if o.ExpiryWarningSeconds > 0 {
			out = append(out, a(MetricSecondsUntilOffsetExpiry, "Minimum", "LessThanThreshold", "notBreaching",
				fmt.Sprintf("Committed offsets of group %s on %s expire in less than %gs: the group restarts from auto.offset.reset.", t.Group, t.Topic, o.ExpiryWarningSeconds),
				o.ExpiryWarningSeconds, 1))
		}
		if o.OffsetsExpired {
			out = append(out, a(MetricOffsetsExpired, "Maximum", "GreaterThanOrEqualToThreshold", "notBreaching",
				fmt.Sprintf("Committed offsets of group %s on %s have expired.", t.Group, t.Topic), 1, 1))
		}
	}
	for _, a := range out {
		if err := ValidAlarmName(a.AlarmName); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ValidAlarmName reports why CloudWatch would reject an alarm name: it
// must have 1 to 255 characters of valid UTF-8 without ASCII control
// characters (PutMetricAlarm, AlarmName).
func ValidAlarmName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return fmt.Errorf("alarm name %q: not valid UTF-8", name)
	case n < 1 || n > 255:
		return fmt.Errorf("alarm name %q: %d characters, CloudWatch allows 1 to 255 (use a shorter --alarm-prefix, cluster, group or topic)", name, n)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("alarm name %q: ASCII control characters are not allowed", name)
		}
	}
	return nil
}

// Input converts the alarm to the SDK's input.
func (a Alarm) Input() *cloudwatch.PutMetricAlarmInput {
	dims := make([]types.Dimension, len(a.Dimensions))
	for i, d := range a.Dimensions {
		dims[i] = types.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)}
	}
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(a.AlarmName), AlarmDescription: aws.String(a.AlarmDescription),
		Namespace: aws.String(a.Namespace), MetricName: aws.String(a.MetricName), Dimensions: dims,
		Statistic: types.Statistic(a.Statistic), Period: aws.Int32(a.Period),
		EvaluationPeriods: aws.Int32(a.EvaluationPeriods), Threshold: aws.Float64(a.Threshold),
		ComparisonOperator: types.ComparisonOperator(a.ComparisonOperator),
		TreatMissingData:   aws.String(a.TreatMissingData),
		AlarmActions:       a.AlarmActions, OKActions: a.OKActions,
		ActionsEnabled: aws.Bool(len(a.AlarmActions) > 0),
	}
}

// ProvisionAPI is the part of the CloudWatch client Provision uses.
type ProvisionAPI interface {
	// PutDashboard creates or replaces a dashboard.
	PutDashboard(ctx context.Context, in *cloudwatch.PutDashboardInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutDashboardOutput, error)
	// PutMetricAlarm creates or replaces an alarm.
	PutMetricAlarm(ctx context.Context, in *cloudwatch.PutMetricAlarmInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
}

// Provision puts the dashboard (when d is not nil) under name and every
// alarm. It returns CloudWatch's validation messages for the dashboard as
// an error.
func Provision(ctx context.Context, api ProvisionAPI, name string, d *Dashboard, alarms []Alarm) error {
	if d != nil {
		body, err := json.Marshal(d)
		if err != nil {
			return err
		}
		out, err := api.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(name), DashboardBody: aws.String(string(body))})
		if err != nil {
			return fmt.Errorf("put dashboard %s: %w", name, err)
		}
		if len(out.DashboardValidationMessages) > 0 {
			var msgs []string
			for _, m := range out.DashboardValidationMessages {
				msgs = append(msgs, aws.ToString(m.DataPath)+": "+aws.ToString(m.Message))
			}
			return fmt.Errorf("put dashboard %s: %s", name, strings.Join(msgs, "; "))
		}
	}
	for _, a := range alarms {
		if _, err := api.PutMetricAlarm(ctx, a.Input()); err != nil {
			return fmt.Errorf("put metric alarm %q: %w", a.AlarmName, err)
		}
	}
	return nil
}
