package settings

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Range is the valid values of a numeric option: intervals and single
// values (an interval whose min is its max).
type Range struct {
	alts []interval
	dur  bool
}

type interval struct{ min, max int64 }

// ParseRange parses a range tag: "100ms..5m", "0|1s..168h", "1|60"; an
// interval without a max ("16..") is open.
func ParseRange(tag string, dur bool) (Range, error) {
	r := Range{dur: dur}
	parse := func(s string) (int64, error) {
		if dur {
			d, err := time.ParseDuration(s)
			return int64(d), err
		}
		return strconv.ParseInt(s, 10, 64)
	}
	for _, alt := range strings.Split(tag, "|") {
		lo, hi, isInterval := strings.Cut(alt, "..")
		if !isInterval {
			hi = lo
		}
		a, err := parse(strings.TrimSpace(lo))
		if err != nil {
			return r, fmt.Errorf("range %q: %w", tag, err)
		}
		b, err := int64(math.MaxInt64), error(nil)
		if !isInterval || strings.TrimSpace(hi) != "" {
			b, err = parse(strings.TrimSpace(hi))
		}
		if err != nil || b < a {
			return r, fmt.Errorf("range %q: bad interval %q", tag, alt)
		}
		r.alts = append(r.alts, interval{a, b})
	}
	return r, nil
}

// Contains reports whether v is valid.
func (r Range) Contains(v int64) bool {
	for _, a := range r.alts {
		if v >= a.min && v <= a.max {
			return true
		}
	}
	return false
}

// Min and Max are the smallest and largest valid values other than a
// lone 0 ("0|1s..168h": 1s and 168h).
func (r Range) Min() int64 {
	m := int64(math.MaxInt64)
	for _, a := range r.alts {
		if a != (interval{}) {
			m = min(m, a.min)
		}
	}
	return m
}

// Max: see Min.
func (r Range) Max() int64 {
	m := int64(math.MinInt64)
	for _, a := range r.alts {
		m = max(m, a.max)
	}
	return m
}

// Duration reports whether the range is of durations.
func (r Range) Duration() bool { return r.dur }

// Text is the range as --help and errors show it: "100ms to 1h",
// "0 or 1 to 1000", "1 or 60", "at least 16".
func (r Range) Text() string {
	var parts []string
	for _, a := range r.alts {
		switch {
		case a.min == a.max:
			parts = append(parts, r.Format(a.min))
		case a.max == math.MaxInt64:
			parts = append(parts, "at least "+r.Format(a.min))
		default:
			parts = append(parts, r.Format(a.min)+" to "+r.Format(a.max))
		}
	}
	return strings.Join(parts, " or ")
}

// Check reports a value outside the range, naming key.
func (r Range) Check(key string, v int64) error {
	if r.Contains(v) {
		return nil
	}
	return fmt.Errorf("%s %s: out of range, want %s", key, r.Format(v), r.Text())
}

// Format prints v as the option is written: 1h, 5m, 100ms for durations.
func (r Range) Format(v int64) string {
	if r.dur {
		if v != 0 && v < int64(time.Millisecond) || v > int64(10*365*24*time.Hour) {
			return time.Duration(v).String()
		}
		return FormatDuration(time.Duration(v))
	}
	return strconv.FormatInt(v, 10)
}

// FormatDuration prints 1h, 5m, 100ms rather than 1h0m0s, 5m0s.
func FormatDuration(d time.Duration) string {
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

// strictDurationHook rejects a bare number where a duration is expected:
// YAML `interval: 30` would otherwise decode as 30 ns. Only 0, which means
// the same in every unit, is accepted.
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
		str := strings.TrimSpace(reflect.ValueOf(data).String())
		if fl, err := strconv.ParseFloat(str, 64); err == nil {
			if fl == 0 {
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
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
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

// commaSliceHook turns "a,b" into []string{"a", "b"} (environment values).
func commaSliceHook(f reflect.Type, t reflect.Type, data any) (any, error) {
	if f.Kind() != reflect.String || t.Kind() != reflect.Slice {
		return data, nil
	}
	s := strings.TrimSpace(reflect.ValueOf(data).String())
	if s == "" {
		return []string{}, nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, nil
}
