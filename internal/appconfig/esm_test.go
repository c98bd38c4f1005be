package appconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
)

func TestLambdaESMConfig(t *testing.T) {
	c, err := load(t, []string{"--config", "../../configs/exporter.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.LambdaESM.Enabled || c.LambdaESMOptions() != nil {
		t.Error("lambda-esm is on by default")
	}
	if c.LambdaESM.Horizon != lambdaesm.DefaultHorizon || c.LambdaESM.RefreshInterval != lambdaesm.DefaultRefreshInterval {
		t.Errorf("defaults: %+v", c.LambdaESM)
	}

	f := filepath.Join(t.TempDir(), "c.yaml")
	const arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0e4d4f5c-1111-2222-3333-444455556666-2"
	yaml := "kafka:\n  brokers: [b1:9092]\n  msk-cluster-arn: " + arn + "\n" +
		"clusters:\n  - name: self\n    brokers: [k1:9092, k2:9092]\n" +
		"lambda-esm:\n  enabled: true\n  regions: [eu-west-1, us-east-1]\n  function-deny: [\"test-.*\"]\n  horizon: 72h\n"
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = load(t, []string{"--config", f}, []string{"OFFSETLAG_LAMBDA_ESM_REFRESH_INTERVAL=1m"})
	if err != nil {
		t.Fatal(err)
	}
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
		_, err := load(t, []string{"--kafka.brokers=a:1", bad.args}, nil)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want %q", bad.args, err, bad.want)
		}
	}
}
