// Package message parses and validates factor-worker input records.
//
// A valid record value is a JSON object with a member "number" holding a
// plain JSON integer literal N with 1 <= N <= Limits.MaxNumber, for example
// {"number": 42}. Other members are ignored. Parsing is strict: anything
// else is rejected with an *Error carrying a machine-readable Reason, which
// the worker uses as the dead-letter reason and as a metric label. Parse
// never panics and does no work proportional to exponents or digit counts
// beyond the payload size, which is capped first.
package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Reason says why a record was rejected. The values are stable: they appear
// in dead-letter headers and in the reason label of
// factor_worker_dead_lettered_total.
type Reason string

// Rejection reasons.
const (
	ReasonTooLarge      Reason = "payload_too_large" // value longer than Limits.MaxBytes
	ReasonNotJSON       Reason = "not_json"          // empty, invalid JSON or trailing data
	ReasonNotObject     Reason = "not_object"        // valid JSON, but not an object
	ReasonMissingNumber Reason = "missing_number"    // no "number" member
	ReasonDuplicateKey  Reason = "duplicate_number"  // "number" appears more than once
	ReasonNumberString  Reason = "number_is_string"  // "number": "42"
	ReasonNotNumber     Reason = "not_a_number"      // null, bool, object or array
	ReasonNegative      Reason = "negative"          // "number": -5
	ReasonFractional    Reason = "fractional"        // "number": 1.5
	ReasonNotInteger    Reason = "not_integer"       // integral value in decimal or exponent form: 2.0, 1e3
	ReasonZero          Reason = "zero"              // "number": 0 (every integer divides 0)
	ReasonAboveMax      Reason = "above_max"         // N > Limits.MaxNumber (or > 2^64-1)
)

// Reasons lists every Reason, for pre-initialising metric label values.
var Reasons = []Reason{
	ReasonTooLarge, ReasonNotJSON, ReasonNotObject, ReasonMissingNumber, ReasonDuplicateKey,
	ReasonNumberString, ReasonNotNumber, ReasonNegative, ReasonFractional, ReasonNotInteger,
	ReasonZero, ReasonAboveMax,
}

// Error is a rejected record.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "invalid record: " + string(e.Reason)
	}
	return "invalid record: " + string(e.Reason) + ": " + e.Detail
}

// ReasonOf returns the Reason of an *Error in err's chain and true, or ""
// and false.
func ReasonOf(err error) (Reason, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return "", false
}

// Limits bound what Parse accepts.
type Limits struct {
	// MaxNumber is the largest N accepted. 0 means math.MaxUint64.
	MaxNumber uint64
	// MaxBytes is the largest record value accepted. 0 means DefaultMaxBytes.
	MaxBytes int
}

// Defaults.
const (
	DefaultMaxNumber = 1_000_000_000_000 // 10^12: at most 6720 divisors per row
	DefaultMaxBytes  = 4096
)

// DefaultLimits returns the worker's default limits.
func DefaultLimits() Limits {
	return Limits{MaxNumber: DefaultMaxNumber, MaxBytes: DefaultMaxBytes}
}

func reject(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Parse validates a record value and returns its number.
func Parse(value []byte, lim Limits) (uint64, error) {
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	maxNumber := lim.MaxNumber
	if maxNumber == 0 {
		maxNumber = math.MaxUint64
	}
	if len(value) > maxBytes {
		return 0, reject(ReasonTooLarge, "%d bytes > limit %d", len(value), maxBytes)
	}
	if !json.Valid(value) {
		return 0, reject(ReasonNotJSON, "invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return 0, reject(ReasonNotJSON, "%v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return 0, reject(ReasonNotObject, "top-level value is not an object")
	}
	var raw json.RawMessage
	seen := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, reject(ReasonNotJSON, "%v", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return 0, reject(ReasonNotJSON, "%v", err)
		}
		if key != "number" {
			continue
		}
		if seen {
			return 0, reject(ReasonDuplicateKey, `"number" given twice`)
		}
		seen, raw = true, v
	}
	if !seen {
		return 0, reject(ReasonMissingNumber, `no "number" member`)
	}
	return parseNumber(bytes.TrimSpace(raw), maxNumber)
}

// parseNumber classifies one valid JSON value.
func parseNumber(raw []byte, maxNumber uint64) (uint64, error) {
	if len(raw) == 0 {
		return 0, reject(ReasonNotJSON, "empty value")
	}
	switch c := raw[0]; {
	case c == '"':
		return 0, reject(ReasonNumberString, "number given as a string")
	case c == '-':
		return 0, reject(ReasonNegative, "%s", truncate(raw))
	case c < '0' || c > '9':
		return 0, reject(ReasonNotNumber, "%s", truncate(raw))
	}
	s := string(raw)
	if i := strings.IndexAny(s, ".eE"); i >= 0 {
		return 0, classifyNonInteger(s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		// Valid JSON digits only, so the error is a range error.
		return 0, reject(ReasonAboveMax, "%s does not fit in 64 bits", truncate(raw))
	}
	if n == 0 {
		return 0, reject(ReasonZero, "0 has infinitely many divisors")
	}
	if n > maxNumber {
		return 0, reject(ReasonAboveMax, "%d > max %d", n, maxNumber)
	}
	return n, nil
}

// classifyNonInteger tells a fractional value (1.5) from an integral one in
// decimal or exponent form (2.0, 1e3). The literal is valid JSON.
func classifyNonInteger(s string) error {
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	_, frac, _ := strings.Cut(mant, ".")
	frac = strings.TrimRight(frac, "0")
	if !hasExp {
		if frac != "" {
			return reject(ReasonFractional, "%s", truncate([]byte(s)))
		}
		return reject(ReasonNotInteger, "%s: integral value not written as an integer", truncate([]byte(s)))
	}
	// With an exponent: the value is integral iff the exponent covers the
	// significant fraction digits (or the mantissa is zero).
	e, err := strconv.Atoi(strings.TrimPrefix(exp, "+"))
	if err != nil { // out of int range: decide by sign
		if strings.HasPrefix(exp, "-") {
			e = math.MinInt
		} else {
			e = math.MaxInt
		}
	}
	intPart, _, _ := strings.Cut(mant, ".")
	zero := strings.Trim(intPart, "0") == "" && frac == ""
	if !zero && (e < 0 && (e == math.MinInt || -e > countTrailingZeros(intPart)) || frac != "" && e < len(frac)) {
		return reject(ReasonFractional, "%s", truncate([]byte(s)))
	}
	return reject(ReasonNotInteger, "%s: integral value not written as an integer", truncate([]byte(s)))
}

func countTrailingZeros(s string) int {
	return len(s) - len(strings.TrimRight(s, "0"))
}

func truncate(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
