package exporter

import (
	"time"

	"github.com/offsetlag/offsetlag/exporter/status"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
)

// t0 and at: the test clock.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// testSnapshot is the poll fixture exporter/lag's tests use too.
var testSnapshot = resulttest.Snapshot

// pollEvery returns a Config that polls every interval, with the given
// poll timeout (0: the interval), the rest at its zero value.
func pollEvery(interval, timeout time.Duration) Config {
	var c Config
	c.Poll.Interval, c.Poll.Timeout = interval, timeout
	return c
}

// trendsConfig returns the default timelag.* and status.* options with
// the given time-lag mode and status window.
func trendsConfig(mode string, window int) status.Config {
	var c status.Config
	c.SetDefaults()
	c.TimeLag.Mode, c.Status.Window = mode, window
	return c
}

// shardConfig returns a Config of shard index of count, the rest zero.
func shardConfig(index, count int) Config {
	var c Config
	c.Shard.Index, c.Shard.Count = index, count
	return c
}
