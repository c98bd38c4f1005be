package appconfig

import (
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
)

func TestLambdaESMConfig(t *testing.T) {
	c := mustLoad(t, []string{"--config", "../../configs/exporter.yaml"}, nil)
	if c.LambdaESM.Enabled || c.LambdaESMOptions() != nil {
		t.Error("lambda-esm is on by default")
	}
	if c.LambdaESM.Horizon != lambdaesm.DefaultHorizon || c.LambdaESM.RefreshInterval != lambdaesm.DefaultRefreshInterval {
		t.Errorf("defaults: %+v", c.LambdaESM)
	}

	const arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0e4d4f5c-1111-2222-3333-444455556666-2"
	yaml := "kafka:\n  brokers: [b1:9092]\n  msk-cluster-arn: " + arn + "\n" +
		"clusters:\n  - name: self\n    brokers: [k1:9092, k2:9092]\n" +
		"lambda-esm:\n  enabled: true\n  regions: [eu-west-1, us-east-1]\n  function-deny: [\"test-.*\"]\n  horizon: 72h\n"
	f := configFile(t, yaml)
	c = mustLoad(t, []string{"--config", f}, []string{"OFFSETLAG_LAMBDA_ESM_REFRESH_INTERVAL=1m"})
	o := c.LambdaESMOptions()
	if o == nil || o.Horizon != 72*time.Hour || o.RefreshInterval != time.Minute || len(o.Regions) != 2 {
		t.Fatalf("options = %+v", o)
	}
	if o.IncludeFunction("test-x") || !o.IncludeFunction("orders") {
		t.Error("function filter")
	}
	if len(o.Clusters) != 2 || o.Clusters[0].MSKClusterARN != arn || o.Clusters[1].MSKClusterARN != "" ||
		len(o.Clusters[1].Brokers) != 2 {
		t.Errorf("clusters = %+v", o.Clusters)
	}

	for _, bad := range []struct{ args, want string }{
		{"--lambda-esm.horizon=0s", "horizon"},
		{"--lambda-esm.function-allow=(", "regex"},
		{"--kafka.msk-cluster-arn=arn:aws:lambda:x:1:function:f", "msk-cluster-arn"},
		// One ARN check for CloudWatch and discovery alike, whether either is on.
		{"--kafka.msk-cluster-arn=arn:aws:kafka:eu-west-1:1:cluster/orders", "cluster/<name>/<uuid>"},
	} {
		wantLoadError(t, bad.args, []string{"--kafka.brokers=a:1", bad.args}, nil, bad.want)
	}
}
