package appconfig

import (
	"github.com/offsetlag/offsetlag/exporter/status"
)

// TrendsConfig configures time lag and group status.
type TrendsConfig struct {
	TimeLag TimeLagConfig `mapstructure:"timelag"`
	Status  StatusConfig  `mapstructure:"status"`
}

// TimeLagConfig is the time-lag estimator.
type TimeLagConfig struct {
	Mode              string `mapstructure:"mode" help:"time lag estimation: interpolate (end-offset history only), exact (read the record timestamp at each lagging commit), hybrid (interpolate; read exactly where history cannot tell or lag is large)"`
	ExactBudget       int    `mapstructure:"exact-budget" range:"0..1000000" help:"most partitions whose record timestamp is read per poll (largest lag first)"`
	ExactAboveRecords int64  `mapstructure:"exact-above-records" range:"0..1000000000000" help:"hybrid mode: read exact timestamps for partitions lagging at least this many records (0: every lagging partition)"`
}

// SetDefaults sets the timelag.* defaults.
func (t *TimeLagConfig) SetDefaults() {
	var d status.TrendOptions
	d.SetDefaults()
	t.Mode, t.ExactBudget, t.ExactAboveRecords = d.Mode, d.ExactBudget, d.ExactAboveRecords
}

// StatusConfig is the status evaluator.
type StatusConfig struct {
	Window int `mapstructure:"window" range:"3..1000" help:"polls the status rules (WARN, STALL, STOP, REWIND) and rates look back over"`
}

// SetDefaults sets the status.* defaults.
func (s *StatusConfig) SetDefaults() {
	var d status.TrendOptions
	d.SetDefaults()
	s.Window = d.Window
}

// Options returns the exporter's trend options.
func (t TrendsConfig) Options() status.TrendOptions {
	o := status.TrendOptions{Mode: t.TimeLag.Mode, ExactBudget: t.TimeLag.ExactBudget,
		ExactAboveRecords: t.TimeLag.ExactAboveRecords, Window: t.Status.Window}
	if o.ExactBudget == 0 {
		o.ExactBudget = -1 // 0 in the config means "never read exactly"
	}
	if o.ExactAboveRecords == 0 {
		o.ExactAboveRecords = 1 // 0 in the config: every lagging partition (the exporter's 0 is its default)
	}
	return o
}

// Validate reports the first problem.
func (t TrendsConfig) Validate() error {
	o := t.Options()
	o.SetDefaults()
	return o.Validate()
}
