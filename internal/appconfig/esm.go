package appconfig

import (
	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
	"github.com/offsetlag/offsetlag/exporter"
)

// LambdaESMConfig configures the optional discovery of Lambda event source
// mappings: lambdaesm.Settings, owned by discovery/lambdaesm (README "Lambda
// event source mappings").
type LambdaESMConfig = lambdaesm.Settings

// validateLambdaESM reports the first problem with the lambda-esm settings
// (refresh-interval and horizon are range tags).
func (c *Config) validateLambdaESM() error {
	e := c.LambdaESM
	if _, err := exporter.NewFilter("lambda-esm.function", e.FunctionAllow, e.FunctionDeny); err != nil {
		return err
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
	out := &lambdaesm.Config{Settings: e, IncludeFunction: f}
	for _, cl := range c.ClusterList() {
		out.Clusters = append(out.Clusters, lambdaesm.Cluster{Name: cl.Name, MSKClusterARN: cl.MSKClusterARN, Brokers: cl.Brokers})
	}
	return out
}
