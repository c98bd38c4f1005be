package status

import "fmt"

// Config configures time lag and status evaluation: the timelag.* and
// status.* options. The tags declare them (key, help, range;
// internal/settings derives the flag, the environment variable and the
// YAML key), SetDefaults sets their defaults and Validate checks what the
// tags cannot say. Every value means the same wherever it is set (0
// exact-budget: no exact read; 0 exact-above-records: every lagging
// partition); a zero Config handed to the poll loop is the defaults. A
// Config built in code starts from SetDefaults and sets the fields it
// changes.
type Config struct {
	// TimeLag is the time-lag estimator: the timelag.* options.
	TimeLag struct {
		// Mode selects how time lag is estimated: interpolate (end-offset
		// history only), exact (the timestamp of the record at every
		// lagging commit) or hybrid (interpolate, and read exactly where
		// the history cannot tell or the lag is at least
		// ExactAboveRecords).
		Mode string `mapstructure:"mode" help:"time lag estimation: interpolate (end-offset history only), exact (read the record timestamp at each lagging commit), hybrid (interpolate; read exactly where history cannot tell or lag is large)"`
		// ExactBudget is the most partitions whose record timestamp is
		// read per poll (largest lag first); 0 reads none.
		ExactBudget int `mapstructure:"exact-budget" range:"0..1000000" help:"most partitions whose record timestamp is read per poll (largest lag first)"`
		// ExactAboveRecords: in hybrid mode, partitions lagging at least
		// this many records are read exactly (interpolation is least
		// precise for large gaps that span bursts); 0 reads every lagging
		// partition.
		ExactAboveRecords int64 `mapstructure:"exact-above-records" range:"0..1000000000000" help:"hybrid mode: read exact timestamps for partitions lagging at least this many records (0: every lagging partition)"`
	} `mapstructure:"timelag"`
	// Status is the status evaluator: the status.* options.
	Status struct {
		// Window is how many polls the status rules and rates look back.
		Window int `mapstructure:"window" range:"3..1000" help:"polls the status rules (WARN, STALL, STOP, REWIND) and rates look back over"`
	} `mapstructure:"status"`
}

// Time-lag modes (Config.TimeLag.Mode).
const (
	// modeInterpolate uses only the end-offset history: no extra
	// requests, no value until two polls, none for commits older than the
	// history.
	modeInterpolate = "interpolate"
	// modeExact reads the timestamp of the record at every lagging
	// committed offset (one Fetch per leader, within the budget).
	modeExact = "exact"
	// modeHybrid interpolates, and reads exact timestamps where the
	// history cannot tell or the lag is at least ExactAboveRecords.
	modeHybrid = "hybrid"
)

// Trend defaults.
const (
	defaultExactBudget       = 1000
	defaultExactAboveRecords = 1000
	defaultStatusWindow      = 10
)

// SetDefaults sets every option to its default.
func (c *Config) SetDefaults() {
	c.TimeLag.Mode, c.TimeLag.ExactBudget, c.TimeLag.ExactAboveRecords = modeHybrid, defaultExactBudget, defaultExactAboveRecords
	c.Status.Window = defaultStatusWindow
}

// Validate reports the first problem: a mode that is not one of the three
// and a window too short for the rules (the loader also checks the range
// tags; a Config built in code is checked here).
func (c *Config) Validate() error {
	switch c.TimeLag.Mode {
	case modeInterpolate, modeExact, modeHybrid:
	default:
		return fmt.Errorf("timelag.mode %q: want interpolate, exact or hybrid", c.TimeLag.Mode)
	}
	if c.Status.Window < minWindow {
		return fmt.Errorf("status.window %d: must be at least %d polls", c.Status.Window, minWindow)
	}
	return nil
}
