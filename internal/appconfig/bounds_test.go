package appconfig

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/internal/settings"
)

// Every int and duration option has a range tag, and the range is in its
// --help text; its default is in range.
func TestEveryNumericOptionBounded(t *testing.T) {
	fs := Flags("test")
	for _, o := range Options() {
		switch o.Type.Kind() {
		case reflect.Int, reflect.Int64:
		default:
			continue
		}
		if o.Range == nil {
			t.Errorf("%s: numeric option without a range tag", o.Key)
			continue
		}
		if usage := fs.Lookup(o.Flag).Usage; !strings.Contains(usage, "(range: "+o.Range.Text()+")") {
			t.Errorf("%s: --help lacks the range: %q", o.Key, usage)
		}
		if err := o.Range.Check(o.Key, reflect.ValueOf(o.Default).Int()); err != nil {
			t.Errorf("default out of its own range: %v", err)
		}
	}
}

// One table over every numeric option: just below its minimum and just
// above its maximum are errors naming the key; the minimum and the
// maximum themselves are accepted (from flags and from the environment).
func TestNumericRanges(t *testing.T) {
	// Options whose limit is only valid together with another.
	companions := map[string][]string{
		"poll.timeout": {"--poll.interval", "1h"},
		"shard.index":  {"--shard.count", "1000"},
	}
	val := func(r *settings.Range, v int64) string {
		if r.Duration() {
			return time.Duration(v).String()
		}
		return strconv.FormatInt(v, 10)
	}
	n := 0
	for _, o := range Options() {
		r := o.Range
		if r == nil {
			continue
		}
		n++
		below := r.Min() - 1
		if below == 0 && r.Contains(0) {
			below = -1
		}
		for _, v := range []int64{below, r.Max() + 1} {
			t.Run(fmt.Sprintf("%s=%s", o.Key, val(r, v)), func(t *testing.T) {
				_, err := load(t, []string{"--kafka.brokers", "k:1", "--" + o.Flag, val(r, v)}, nil)
				if err == nil || !strings.HasPrefix(err.Error(), o.Key+" ") || !strings.Contains(err.Error(), "want "+r.Text()) {
					t.Errorf("flag: err = %v, want one naming %s and its range %s", err, o.Key, r.Text())
				}
				_, err = load(t, nil, []string{"OFFSETLAG_KAFKA_BROKERS=k:1", o.Env + "=" + val(r, v)})
				if err == nil || !strings.HasPrefix(err.Error(), o.Key+" ") {
					t.Errorf("environment: err = %v, want one naming %s", err, o.Key)
				}
			})
		}
		for _, v := range []int64{r.Min(), r.Max()} {
			t.Run(fmt.Sprintf("%s=%s accepted", o.Key, val(r, v)), func(t *testing.T) {
				args := append([]string{"--kafka.brokers", "k:1", "--" + o.Flag, val(r, v)}, companions[o.Key]...)
				if _, err := load(t, args, nil); err != nil {
					t.Errorf("in range, rejected: %v", err)
				}
			})
		}
	}
	if n < 20 {
		t.Fatalf("%d bounded options, want every numeric option", n)
	}
}

// The clusters list's own numeric settings are checked with their index.
func TestClusterRanges(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"dial-timeout: 1ms", "clusters[0].dial-timeout 1ms: out of range"},
		{"dial-timeout: 10m", "clusters[0].dial-timeout 10m"},
		{"offsets-retention: 500ms", "clusters[0].offsets-retention 500ms"},
		{"offsets-retention: -1h", "clusters[0].offsets-retention -1h"},
	} {
		f := configFile(t, "clusters:\n  - name: a\n    brokers: [k:1]\n    "+c.yaml+"\n")
		wantLoadError(t, c.yaml, []string{"--config", f}, nil, c.want)
	}
}

// A bare number is refused for a duration in every source; 0 is the one
// number that means the same in every unit.
func TestBareNumberDurations(t *testing.T) {
	f := configFile(t, "kafka: {brokers: [k:1]}\npoll: {interval: 30}\n")
	for name, load1 := range map[string]func() error{
		"yaml": func() error { _, err := load(t, []string{"--config", f}, nil); return err },
		"env": func() error {
			_, err := load(t, nil, []string{"OFFSETLAG_KAFKA_BROKERS=k:1", "OFFSETLAG_POLL_INTERVAL=30"})
			return err
		},
	} {
		if err := load1(); err == nil || !strings.Contains(err.Error(), "poll.interval") {
			t.Errorf("%s: err = %v, want one naming poll.interval", name, err)
		}
	}
	fs := Flags("test")
	if err := fs.Parse([]string{"--poll.interval", "30"}); err == nil || !strings.Contains(err.Error(), "--poll.interval") {
		t.Errorf("flag: err = %v, want one naming --poll.interval", err)
	}
	f = configFile(t, "kafka: {brokers: [k:1], offsets-retention: 0}\npoll: {timeout: 0, interval: 30s}\n")
	c, err := load(t, []string{"--config", f}, nil)
	if err != nil || c.Exporter.Poll.Timeout != 0 || c.Kafka.OffsetsRetention != 0 || c.Exporter.Poll.Interval != 30*time.Second {
		t.Errorf("bare 0: %+v %v", c, err)
	}
}

// Ports are numbers in range: 1 to 65535 for brokers, 0 (any) to 65535 to
// listen on.
func TestPortRanges(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--kafka.brokers", "k:0"}, `cluster "default": broker "k:0": port "0" out of range, want 1 to 65535`},
		{[]string{"--kafka.brokers", "k:65536"}, `broker "k:65536": port "65536" out of range`},
		{[]string{"--kafka.brokers", "k:http"}, `broker "k:http": port "http" out of range`},
		{[]string{"--kafka.brokers", "k:1", "--web.listen-address", ":70000"}, `web.listen-address ":70000": port "70000" out of range, want 0 to 65535`},
	} {
		wantLoadError(t, fmt.Sprint(c.args), c.args, nil, c.want)
	}
	for _, args := range [][]string{{"--kafka.brokers", "k:1,k:65535", "--web.listen-address", "127.0.0.1:0"}, {"--kafka.brokers", "[::1]:9092"}} {
		if _, err := load(t, args, nil); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}
