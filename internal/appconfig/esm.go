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
	Enabled bool `mapstructure:"enabled" help:"discover Lambda Kafka event source mappings (lambda:ListEventSourceMappings) and watch their consumer groups"`
	// Regions to list mappings in; empty: AWS_REGION / shared config.
	Regions []string `mapstructure:"regions" help:"AWS regions to list event source mappings in (default: AWS_REGION / shared config)"`
	// FunctionAllow and FunctionDeny are anchored regular expressions on
	// function names (deny wins; empty allow: every function).
	FunctionAllow []string `mapstructure:"function-allow" help:"only watch mappings of functions matching one of these anchored regular expressions (default: all)"`
	FunctionDeny  []string `mapstructure:"function-deny" help:"never watch mappings of functions matching one of these anchored regular expressions (wins over allow)"`
	// RefreshInterval between two ListEventSourceMappings rounds.
	RefreshInterval time.Duration `mapstructure:"refresh-interval" range:"1s..24h" help:"time between two listings of the event source mappings"`
	// Horizon: a Disabled mapping whose offsets expire within it is flagged.
	Horizon time.Duration `mapstructure:"horizon" range:"1m..87600h" help:"warn when a disabled mapping's committed offsets expire within this"`
	// Endpoint overrides the Lambda endpoint (VPC endpoint, test server).
	Endpoint string `mapstructure:"endpoint" help:"Lambda endpoint override (VPC endpoint, test server)"`
}

// SetDefaults sets the lambda-esm.* defaults (off).
func (e *LambdaESMConfig) SetDefaults() {
	e.Regions, e.FunctionAllow, e.FunctionDeny = []string{}, []string{}, []string{}
	e.RefreshInterval = lambdaesm.DefaultRefreshInterval
	e.Horizon = lambdaesm.DefaultHorizon
}

// validateLambdaESM reports the first problem with the lambda-esm settings
// (refresh-interval and horizon are range tags).
func (c *Config) validateLambdaESM() error {
	e := c.LambdaESM
	if _, err := exporter.NewFilter("lambda-esm.function", e.FunctionAllow, e.FunctionDeny); err != nil {
		return err
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
