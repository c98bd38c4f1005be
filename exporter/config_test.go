package exporter

import (
	"strings"
	"testing"
	"time"
)

// TestNewChecksConfig: New takes the poll.*/shard.* and timelag.*/status.* Configs
// as the configuration declares them, and refuses what their Validate
// refuses, with the option's name.
func TestNewChecksConfig(t *testing.T) {
	src := &fakeSource{name: "c", snap: testSnapshot()}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"timeout beyond interval", Options{Config: pollEvery(time.Second, 2*time.Second)}, "poll.timeout 2s: must not exceed poll.interval 1s"},
		{"shard beyond count", Options{Config: shardConfig(2, 2)}, "shard.index 2: want 0 to shard.count-1 (1)"},
		{"bad mode", Options{Trends: trendsConfig("guess", 10)}, `timelag.mode "guess"`},
		{"short window", Options{Trends: trendsConfig("exact", 2)}, "status.window 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New([]Source{src}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error with %q", err, tc.want)
			}
		})
	}
	var cfg Config
	cfg.SetDefaults()
	if cfg.Poll.Interval != defaultInterval || cfg.Shard.Index != 0 || cfg.Shard.Count != 1 || cfg.Validate() != nil {
		t.Errorf("defaults %+v: interval %s, want %s, one shard, valid", cfg, cfg.Poll.Interval, defaultInterval)
	}
	if _, err := New([]Source{src}, Options{Config: cfg}); err != nil {
		t.Errorf("New with the defaults: %v", err)
	}
}
