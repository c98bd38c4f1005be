package appconfig

import (
	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
	"github.com/offsetlag/offsetlag/internal/namefilter"
)

// LambdaESMConfig configures the optional discovery of Lambda event source
// mappings: lambdaesm.Settings, owned by discovery/lambdaesm (README "Lambda
// event source mappings").
type LambdaESMConfig = lambdaesm.Settings

// validateLambdaESM reports the first problem with the lambda-esm settings
// (refresh-interval and horizon are range tags).
func (c *Config) validateLambdaESM() error {
	_, err := c.functionFilter()
	return err
}

// functionFilter is the lambda-esm.function-allow and -deny filter.
func (c *Config) functionFilter() (func(string) bool, error) {
	e := c.LambdaESM
	return namefilter.Config{Allow: e.FunctionAllow, Deny: e.FunctionDeny}.Compile("lambda-esm.function")
}

// LambdaESMOptions returns the discovery configuration (without logger and
// AWS config), nil when discovery is off.
func (c *Config) LambdaESMOptions() *lambdaesm.Config {
	e := c.LambdaESM
	if !e.Enabled {
		return nil
	}
	f, _ := c.functionFilter()
	out := &lambdaesm.Config{Settings: e, IncludeFunction: f}
	for _, cl := range c.ClusterList() {
		out.Clusters = append(out.Clusters, lambdaesm.Cluster{Name: cl.Name, MSKClusterARN: cl.MSKClusterARN, Brokers: cl.Brokers})
	}
	return out
}
