package appconfig

import (
	"fmt"
	"time"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
	"github.com/offsetlag/offsetlag/exporter"
)

// LambdaESMConfig configures the optional discovery of Lambda event source
// mappings (discovery/lambdaesm; README "Lambda event source mappings").
type LambdaESMConfig struct {
	// Enabled turns discovery on (off by default).
	Enabled bool `mapstructure:"enabled"`
	// Regions to list mappings in; empty: AWS_REGION / shared config.
	Regions []string `mapstructure:"regions"`
	// FunctionAllow and FunctionDeny are anchored regular expressions on
	// function names (deny wins; empty allow: every function).
	FunctionAllow []string `mapstructure:"function-allow"`
	FunctionDeny  []string `mapstructure:"function-deny"`
	// RefreshInterval between two ListEventSourceMappings rounds.
	RefreshInterval time.Duration `mapstructure:"refresh-interval"`
	// Horizon: a Disabled mapping whose offsets expire within it is flagged.
	Horizon time.Duration `mapstructure:"horizon"`
	// Endpoint overrides the Lambda endpoint (VPC endpoint, test server).
	Endpoint string `mapstructure:"endpoint"`
}

// esmFlagDefs are the lambda-esm.* options and kafka.msk-cluster-arn.
var esmFlagDefs = []flagDef{
	{"kafka.msk-cluster-arn", "", "Amazon MSK cluster ARN of the --kafka.brokers cluster, to match Lambda event source mappings to it (lambda-esm)"},
	{"lambda-esm.enabled", false, "discover Lambda Kafka event source mappings (lambda:ListEventSourceMappings) and watch their consumer groups"},
	{"lambda-esm.regions", []string{}, "AWS regions to list event source mappings in (default: AWS_REGION / shared config)"},
	{"lambda-esm.function-allow", []string{}, "only watch mappings of functions matching one of these anchored regular expressions (default: all)"},
	{"lambda-esm.function-deny", []string{}, "never watch mappings of functions matching one of these anchored regular expressions (wins over allow)"},
	{"lambda-esm.refresh-interval", lambdaesm.DefaultRefreshInterval, "time between two listings of the event source mappings"},
	{"lambda-esm.horizon", lambdaesm.DefaultHorizon, "warn when a disabled mapping's committed offsets expire within this"},
	{"lambda-esm.endpoint", "", "Lambda endpoint override (VPC endpoint, test server)"},
}

// validateLambdaESM reports the first problem with the lambda-esm settings.
func (c *Config) validateLambdaESM() error {
	e := c.LambdaESM
	if _, err := exporter.NewFilter("lambda-esm.function", e.FunctionAllow, e.FunctionDeny); err != nil {
		return err
	}
	if e.RefreshInterval <= 0 {
		return fmt.Errorf("lambda-esm.refresh-interval %s: must be positive", e.RefreshInterval)
	}
	if e.Horizon <= 0 {
		return fmt.Errorf("lambda-esm.horizon %s: must be positive", e.Horizon)
	}
	for _, cl := range c.ClusterList() {
		if cl.MSKClusterARN != "" && !lambdaesm.IsMSKClusterARN(cl.MSKClusterARN) {
			return fmt.Errorf("cluster %q: msk-cluster-arn %q: want arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>", cl.Name, cl.MSKClusterARN)
		}
	}
	return nil
}

// LambdaESMOptions returns the discovery configuration (without logger and
// AWS config), nil when discovery is off.
func (c *Config) LambdaESMOptions() *lambdaesm.Config {
	e := c.LambdaESM
	if !e.Enabled {
		return nil
	}
	f, _ := exporter.NewFilter("lambda-esm.function", e.FunctionAllow, e.FunctionDeny)
	out := &lambdaesm.Config{Regions: e.Regions, IncludeFunction: f.Match, RefreshInterval: e.RefreshInterval,
		Horizon: e.Horizon, Endpoint: e.Endpoint}
	for _, cl := range c.ClusterList() {
		out.Clusters = append(out.Clusters, lambdaesm.Cluster{Name: cl.Name, MSKClusterARN: cl.MSKClusterARN, Brokers: cl.Brokers})
	}
	return out
}
