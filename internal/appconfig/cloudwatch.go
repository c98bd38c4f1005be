package appconfig

// CloudWatchConfig configures the CloudWatch publisher.
type CloudWatchConfig struct{}

// cloudwatchFlagDefs are the cloudwatch.* options.
var cloudwatchFlagDefs = []flagDef{}

// Validate reports the first problem.
func (c *CloudWatchConfig) Validate() error { return nil }
