package settings

import (
	"math"
	"strings"
	"testing"
	"time"
)

// A second prefix names the same options, below the first one; unknown
// variables of either prefix are errors, ignored prefixes apply to both.
func TestAltEnvPrefix(t *testing.T) {
	spec := testSpec
	spec.AltEnvPrefix = "ALT_"
	spec.IgnoreEnv = []string{"T_IGNORED_", "ALT_IGNORED_"}
	fs := spec.FlagSet("t", defaults())
	if err := fs.Parse([]string{"--count", "7"}); err != nil {
		t.Fatal(err)
	}
	r := defaults()
	err := spec.Load(r, fs, []string{"ALT_COUNT=6", "ALT_NAME=alt", "T_NAME=t", "ALT_KAFKA_TIMEOUT=2s", "ALT_BIG=9",
		"ALT_IGNORED_X=1", "T_IGNORED_Y=1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 7 || r.Name != "t" || r.Common.Timeout != 2*time.Second || r.Big != 9 {
		t.Errorf("flags > T_ > ALT_ > defaults: got %+v", r)
	}
	for env, want := range map[string]string{
		"ALT_NMAE=x":                 "environment variable ALT_NMAE: unknown option",
		"T_NMAE=x":                   "environment variable T_NMAE: unknown option",
		"ALT_PERIOD=30":              "period: bare number 30",
		"ALT_CONFIG_FILE=/none.yaml": "config file",
	} {
		r := defaults()
		if err := spec.Load(r, fs, []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", env, err, want)
		}
	}
	// Without AltEnvPrefix (the exporter's spec) the second prefix is no
	// option and no error.
	r = defaults()
	if err := testSpec.Load(r, fs, []string{"ALT_NMAE=x", "ALT_NAME=alt"}); err != nil || r.Name != "x" {
		t.Errorf("no AltEnvPrefix: %v, name %q", err, r.Name)
	}
}

// An interval without a max is open: "at least 16".
func TestOpenRange(t *testing.T) {
	rg, err := ParseRange("16..", false)
	if err != nil || rg.Text() != "at least 16" || !rg.Contains(math.MaxInt64) || rg.Contains(15) || rg.Min() != 16 {
		t.Errorf("16..: %v %q", err, rg.Text())
	}
	if err := rg.Check("x", 3); err == nil || err.Error() != "x 3: out of range, want at least 16" {
		t.Errorf("Check: %v", err)
	}
	rg, err = ParseRange("0|1ms..", true)
	if err != nil || rg.Text() != "0 or at least 1ms" || !rg.Contains(0) || rg.Contains(1) || !rg.Contains(int64(time.Hour)) {
		t.Errorf("0|1ms..: %v %q", err, rg.Text())
	}
	if _, err := ParseRange("..5", false); err == nil {
		t.Error("..5 accepted")
	}
}
