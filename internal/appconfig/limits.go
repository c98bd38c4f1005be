package appconfig

import (
	"fmt"
	"math"
	"net"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// A bound is the valid range of one numeric option: min to max, and 0 too
// when zeroOK (0 then has a meaning of its own, given in the option's
// help). Every int and duration option has one (TestEveryNumericOptionBounded);
// the ranges are printed in --help and in README's configuration reference.
type bound struct {
	key      string
	min, max int64
	zeroOK   bool
	dur      bool
	// text replaces the range in messages when only some values of it are
	// valid (checked elsewhere).
	text string
	// get reads the option; a bound without get is checked elsewhere
	// (per cluster, or against another option).
	get func(*Config) int64
}

func durBound(key string, minD, maxD time.Duration, zeroOK bool, get func(*Config) time.Duration) bound {
	b := bound{key: key, min: int64(minD), max: int64(maxD), zeroOK: zeroOK, dur: true}
	if get != nil {
		b.get = func(c *Config) int64 { return int64(get(c)) }
	}
	return b
}

func intBound(key string, minN, maxN int64, zeroOK bool, get func(*Config) int64) bound {
	return bound{key: key, min: minN, max: maxN, zeroOK: zeroOK, get: get}
}

const (
	day  = 24 * time.Hour
	year = 365 * day
)

// bounds are the ranges of every numeric option. Why these:
//   - poll.interval: a poll is a handful of round trips to every broker;
//     below 100 ms the exporter only loads the brokers (a YAML "30" once
//     meant 30 ns: 18,000 polls in 5 s). poll.timeout is at most the
//     interval (checked in validateBounds).
//   - kafka.dial-timeout: a TCP and TLS handshake needs more than 100 ms
//     on a real network.
//   - status.window: every partition keeps a window of samples; 1,000 polls
//     of 10,000 partitions is already ~160 MB.
//   - web timeouts: at least a second (a scrape must be able to finish),
//     at most an hour.
var bounds = []bound{
	durBound("kafka.dial-timeout", 100*time.Millisecond, 5*time.Minute, false, func(c *Config) time.Duration { return c.Kafka.DialTimeout }),
	durBound("kafka.offsets-retention", time.Second, 10*year, true, func(c *Config) time.Duration { return c.Kafka.OffsetsRetention }),
	durBound("clusters[].dial-timeout", 100*time.Millisecond, 5*time.Minute, true, nil),
	durBound("clusters[].offsets-retention", time.Second, 10*year, true, nil),
	durBound("poll.interval", 100*time.Millisecond, time.Hour, false, func(c *Config) time.Duration { return c.Poll.Interval }),
	durBound("poll.timeout", 100*time.Millisecond, time.Hour, true, func(c *Config) time.Duration { return c.Poll.Timeout }),
	durBound("poll.stale-after", 100*time.Millisecond, day, true, func(c *Config) time.Duration { return c.Poll.StaleAfter }),
	intBound("poll.max-concurrent-clusters", 0, 10000, false, func(c *Config) int64 { return int64(c.Poll.MaxConcurrentClusters) }),
	intBound("timelag.exact-budget", 0, 1_000_000, false, func(c *Config) int64 { return int64(c.TimeLag.ExactBudget) }),
	intBound("timelag.exact-above-records", 0, 1_000_000_000_000, false, func(c *Config) int64 { return c.TimeLag.ExactAboveRecords }),
	intBound("status.window", 3, 1000, false, func(c *Config) int64 { return int64(c.Status.Window) }),
	durBound("expiry.tolerance", time.Second, 7*day, true, func(c *Config) time.Duration { return c.Expiry.Tolerance }),
	{key: "cloudwatch.storage-resolution", min: 1, max: 60, text: "1 or 60", get: func(c *Config) int64 { return int64(c.CloudWatch.StorageResolution) }},
	intBound("cloudwatch.max-metrics", 0, 10_000_000, false, func(c *Config) int64 { return int64(c.CloudWatch.MaxMetrics) }),
	intBound("cloudwatch.max-datums-per-poll", 0, 10_000_000, false, func(c *Config) int64 { return int64(c.CloudWatch.MaxDatumsPerPoll) }),
	durBound("cloudwatch.publish-period", time.Second, day, true, func(c *Config) time.Duration { return c.CloudWatch.PublishPeriod }),
	intBound("cloudwatch.queue-size", 1, 1000, false, func(c *Config) int64 { return int64(c.CloudWatch.QueueSize) }),
	intBound("cloudwatch.concurrency", 1, 100, false, func(c *Config) int64 { return int64(c.CloudWatch.Concurrency) }),
	intBound("cloudwatch.max-attempts", 1, 20, false, func(c *Config) int64 { return int64(c.CloudWatch.MaxAttempts) }),
	durBound("cloudwatch.request-timeout", 100*time.Millisecond, 5*time.Minute, false, func(c *Config) time.Duration { return c.CloudWatch.RequestTimeout }),
	durBound("cloudwatch.flush-timeout", 100*time.Millisecond, 10*time.Minute, true, func(c *Config) time.Duration { return c.CloudWatch.FlushTimeout }),
	durBound("lambda-esm.refresh-interval", time.Second, day, false, func(c *Config) time.Duration { return c.LambdaESM.RefreshInterval }),
	durBound("lambda-esm.horizon", time.Minute, 10*year, false, func(c *Config) time.Duration { return c.LambdaESM.Horizon }),
	intBound("shard.index", 0, 999, false, func(c *Config) int64 { return int64(c.Sharding.Index) }),
	intBound("shard.count", 1, 1000, false, func(c *Config) int64 { return int64(c.Sharding.Count) }),
	intBound("ha.partitions", 1, 10000, false, func(c *Config) int64 { return int64(c.HA.Partitions) }),
	durBound("ha.session-timeout", time.Second, 30*time.Minute, false, func(c *Config) time.Duration { return c.HA.SessionTimeout }),
	durBound("web.read-timeout", time.Second, time.Hour, false, func(c *Config) time.Duration { return c.Web.ReadTimeout }),
	durBound("web.write-timeout", time.Second, time.Hour, false, func(c *Config) time.Duration { return c.Web.WriteTimeout }),
	durBound("web.idle-timeout", time.Second, time.Hour, false, func(c *Config) time.Duration { return c.Web.IdleTimeout }),
	intBound("web.max-header-bytes", 4<<10, 1<<20, false, func(c *Config) int64 { return int64(c.Web.MaxHeaderBytes) }),
}

func boundOf(key string) (bound, bool) {
	for _, b := range bounds {
		if b.key == key {
			return b, true
		}
	}
	return bound{}, false
}

// fmtDur prints 1h, 5m, 100ms rather than 1h0m0s, 5m0s.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h" // no d or y: Go durations have none
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (b bound) fmt(v int64) string {
	if b.dur {
		if v != 0 && v < int64(time.Millisecond) || v > int64(10*year) {
			return time.Duration(v).String()
		}
		return fmtDur(time.Duration(v))
	}
	return strconv.FormatInt(v, 10)
}

// rangeText is the range as --help and errors show it: "100ms to 1h",
// "0 or 1 to 1000".
func (b bound) rangeText() string {
	if b.text != "" {
		return b.text
	}
	s := b.fmt(b.min) + " to " + b.fmt(b.max)
	if b.zeroOK && b.min > 0 {
		s = "0 or " + s
	}
	return s
}

// check reports a value outside the range, naming the key.
func (b bound) check(key string, v int64) error {
	if (v == 0 && b.zeroOK) || (v >= b.min && v <= b.max) {
		return nil
	}
	return fmt.Errorf("%s %s: out of range, want %s", key, b.fmt(v), b.rangeText())
}

// validateBounds checks every numeric option against its range, then the
// ranges that depend on another option.
func (c *Config) validateBounds() error {
	for _, b := range bounds {
		if b.get == nil {
			continue
		}
		if err := b.check(b.key, b.get(c)); err != nil {
			return err
		}
	}
	for i, cl := range c.Clusters {
		for _, f := range []struct {
			key string
			v   time.Duration
		}{{"dial-timeout", cl.DialTimeout}, {"offsets-retention", cl.OffsetsRetention}} {
			b, _ := boundOf("clusters[]." + f.key)
			if err := b.check(fmt.Sprintf("clusters[%d].%s", i, f.key), int64(f.v)); err != nil {
				return err
			}
		}
	}
	for _, a := range c.Web.ListenAddress {
		if err := checkPort("web.listen-address", a, 0); err != nil {
			return err
		}
	}
	for _, cl := range c.ClusterList() {
		for _, b := range cl.Brokers {
			if err := checkPort(fmt.Sprintf("cluster %q: broker", cl.Name), b, 1); err != nil {
				return err
			}
		}
	}
	if c.Poll.Timeout > c.Poll.Interval {
		return fmt.Errorf("poll.timeout %s: must not exceed poll.interval %s (polls of a cluster never overlap)", c.Poll.Timeout, c.Poll.Interval)
	}
	return nil
}

// checkPort reports an address whose port is not a number from minPort
// to 65535 (0 for a listen address: any free port). Addresses that are not
// host:port at all are left to the caller's own check, which says so.
func checkPort(what, addr string, minPort int) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < minPort || n > 65535 {
		return fmt.Errorf("%s %q: port %q out of range, want %d to 65535", what, addr, port, minPort)
	}
	return nil
}

var durationType = reflect.TypeFor[time.Duration]()

// strictDurationHook rejects a bare number where a duration is expected:
// YAML `interval: 30` would otherwise decode as 30 ns. Only 0, which means
// the same in every unit, is accepted. Strings go on to
// StringToTimeDurationHookFunc, which wants a unit too ("30" is an error).
func strictDurationHook(f reflect.Type, t reflect.Type, data any) (any, error) {
	if t != durationType || f == durationType {
		return data, nil
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if reflect.ValueOf(data).IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("bare number %v: a duration needs a unit, e.g. \"%vs\" (ns, us, ms, s, m, h)", data, data)
	case reflect.Bool:
		return nil, fmt.Errorf("%v is not a duration", data)
	case reflect.String:
		// Environment and flag values: "30" would fail in
		// StringToTimeDurationHookFunc without showing the value.
		str := strings.TrimSpace(reflect.ValueOf(data).String())
		if _, err := strconv.ParseFloat(str, 64); err == nil {
			if f, _ := strconv.ParseFloat(str, 64); f == 0 {
				return time.Duration(0), nil
			}
			return nil, fmt.Errorf("bare number %s: a duration needs a unit, e.g. \"%ss\" (ns, us, ms, s, m, h)", str, str)
		}
		d, err := time.ParseDuration(str)
		if err != nil {
			return nil, fmt.Errorf("%q: want a duration such as 30s, 5m or 1h30m", str)
		}
		return d, nil
	}
	return data, nil
}

// strictIntHook rejects what weak decoding would silently turn into an
// integer: fractions (2.5), numbers beyond the integer's size (1e30), and
// booleans.
func strictIntHook(f reflect.Type, t reflect.Type, data any) (any, error) {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
	default:
		return data, nil
	}
	if t == durationType {
		return data, nil
	}
	switch f.Kind() {
	case reflect.Float32, reflect.Float64:
		v := reflect.ValueOf(data).Float()
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return nil, fmt.Errorf("%v: want a whole number", data)
		}
	case reflect.Bool:
		return nil, fmt.Errorf("%v: want a whole number", data)
	}
	return data, nil
}
