package appconfig

// The expiry.* and state.* sections are expiry.Config, owned by
// exporter/expiry (its options, defaults and checks), embedded in Config.
// The retention itself is per cluster: kafka.offsets-retention /
// clusters[].offsets-retention.

// validateExpiry checks the expected groups against the configured
// clusters (tolerance and retention ranges are range tags).
func (c *Config) validateExpiry() error {
	var names []string
	for _, cl := range c.ClusterList() {
		names = append(names, cl.Name)
	}
	return c.Config.Validate(names)
}
