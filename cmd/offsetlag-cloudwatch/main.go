// Command offsetlag-cloudwatch provisions the CloudWatch dashboard and
// alarms for the metrics offsetlag-exporter publishes (cloudwatch.mode api
// or emf). With --dry-run it prints the dashboard body and the
// PutMetricAlarm inputs as JSON and calls nothing.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/internal/cli"
	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

const name = "offsetlag-cloudwatch"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the exit: 0 done, 1 an AWS call failed, 2 usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	dryRun := fs.Bool("dry-run", false, "print the dashboard body and alarm inputs as JSON; call nothing")
	dashName := fs.String("dashboard-name", "offsetlag", "dashboard name (empty: no dashboard)")
	ns := fs.String("namespace", cloudwatch.DefaultNamespace, "namespace the exporter publishes to (cloudwatch.namespace)")
	cluster := fs.String("cluster-name", "", "exporter cluster name (the Cluster Name dimension); dashboard: all clusters when empty; required for alarms")
	lambda := fs.String("lambda-function", "", "Lambda function consuming the topic: adds its OffsetLag, Duration, Errors and Invocations (with --msk-cluster)")
	msk := fs.String("msk-cluster", "", "MSK cluster name: adds BytesInPerSec (AWS/Kafka; with --lambda-function)")
	topic := fs.String("topic", "", "restrict the BytesInPerSec widget to this topic")
	alarmOn := fs.StringArray("alarm-on", nil, "GROUP/TOPIC to alarm on (repeatable; split at the last /)")
	maxLag := fs.Float64("max-lag-threshold", 10000, "alarm when MaxOffsetLag > this (0: no lag alarm)")
	expiryWarn := fs.Duration("expiry-warning", 0, "alarm when SecondsUntilOffsetExpiry < this, e.g. 24h (0: no countdown alarm)")
	expired := fs.Bool("alarm-expired", true, "alarm when OffsetsExpired >= 1")
	evals := fs.Int("evaluation-periods", 3, "periods the lag alarm must breach")
	period := fs.Int("period", 60, "period of widgets and alarms, seconds")
	top := fs.Int("top", cloudwatch.DefaultTopN, "series per lag widget: the largest (Metrics Insights ORDER BY ... LIMIT), 1 to 500")
	prefix := fs.String("alarm-prefix", "offsetlag", "alarm name prefix (names are PREFIX METRIC CLUSTER/GROUP/TOPIC, at most 255 characters)")
	actions := fs.StringArray("alarm-action", nil, "ARN notified on ALARM and OK, e.g. an SNS topic (repeatable)")
	region := fs.String("region", "", "AWS region (default: the AWS default chain); also the dashboard widgets' region")
	endpoint := fs.String("endpoint", "", "CloudWatch endpoint override")
	protocol := fs.String("protocol", string(cloudwatch.ProtocolDefault), "wire protocol: default, json or query")
	cli.LogFlags(fs)
	help := "Usage: " + name + " [flags]\n\n" +
		"Provisions the offsetlag CloudWatch dashboard and alarms (PutDashboard,\n" +
		"PutMetricAlarm). Credentials come from the AWS default chain.\n" +
		"Exit codes: 0 done, 1 an AWS call failed, 2 bad flags (one line on stderr)."
	log, err := cli.ParseLog(fs, name, args, stdout, stderr, help)
	if err != nil {
		return cli.Exit(name, err, stderr)
	}
	usage := func(err error) int { return cli.Exit(name, cli.UsageError{Msg: err.Error()}, stderr) }
	var targets []cloudwatch.AlarmTarget
	for _, a := range *alarmOn {
		i := strings.LastIndex(a, "/")
		if i <= 0 || i == len(a)-1 {
			return usage(fmt.Errorf("--alarm-on %q: want GROUP/TOPIC", a))
		}
		targets = append(targets, cloudwatch.AlarmTarget{Group: a[:i], Topic: a[i+1:]})
	}
	co := cloudwatch.ClientOptions{Region: *region, Endpoint: *endpoint, Protocol: cloudwatch.Protocol(*protocol)}
	if err := co.Validate(); err != nil {
		return usage(err)
	}
	widgetRegion := *region
	if widgetRegion == "" {
		widgetRegion = os.Getenv("AWS_REGION")
	}
	if widgetRegion == "" {
		return usage(errors.New("--region (or AWS_REGION) is required for the dashboard widgets"))
	}

	var dash *cloudwatch.Dashboard
	if *dashName != "" {
		d, err := cloudwatch.BuildDashboard(cloudwatch.DashboardOptions{Namespace: *ns, Region: widgetRegion, ClusterName: *cluster,
			LambdaFunction: *lambda, MSKCluster: *msk, Topic: *topic, Period: *period, TopN: *top})
		if err != nil {
			return usage(err)
		}
		dash = d
	}
	var alarms []cloudwatch.Alarm
	if len(targets) > 0 {
		a, err := cloudwatch.BuildAlarms(cloudwatch.AlarmOptions{Namespace: *ns, ClusterName: *cluster, Targets: targets,
			MaxOffsetLag: *maxLag, ExpiryWarningSeconds: expiryWarn.Seconds(), OffsetsExpired: *expired,
			Period: *period, EvaluationPeriods: *evals, Actions: *actions, Prefix: *prefix})
		if err != nil {
			return usage(err)
		}
		alarms = a
	}

	if *dryRun {
		out := struct {
			DashboardName string                `json:"DashboardName,omitempty"`
			DashboardBody *cloudwatch.Dashboard `json:"DashboardBody,omitempty"`
			Alarms        []cloudwatch.Alarm    `json:"Alarms"`
		}{*dashName, dash, alarms}
		if out.Alarms == nil {
			out.Alarms = []cloudwatch.Alarm{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return cli.Exit(name, err, stderr)
		}
		return 0
	}
	client, err := cloudwatch.NewClient(ctx, co)
	if err != nil {
		return cli.Exit(name, err, stderr)
	}
	log.Debug("provisioning", "dashboard", *dashName, "alarms", len(alarms), "namespace", *ns, "region", *region, "endpoint", *endpoint)
	if err := cloudwatch.Provision(ctx, client, *dashName, dash, alarms); err != nil {
		return cli.Exit(name, err, stderr)
	}
	log.Info("provisioned", "dashboard", *dashName, "alarms", len(alarms), "namespace", *ns)
	if dash != nil {
		fmt.Fprintf(stdout, "dashboard %s: %d widgets\n", *dashName, len(dash.Widgets))
	}
	for _, a := range alarms {
		fmt.Fprintf(stdout, "alarm %s\n", a.AlarmName)
	}
	return 0
}
