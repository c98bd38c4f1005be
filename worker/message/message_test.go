package message

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	lim := Limits{MaxNumber: 1000, MaxBytes: 64}
	cases := []struct {
		name string
		in   string
		want uint64
		rsn  Reason // "" means accepted
	}{
		{"plain", `{"number": 42}`, 42, ""},
		{"whitespace and extra members", " {\"id\":\"x\", \"number\" :7 ,\"ts\":[1,2]}\n", 7, ""},
		{"one", `{"number":1}`, 1, ""},
		{"at max", `{"number":1000}`, 1000, ""},
		{"above max", `{"number":1001}`, 0, ReasonAboveMax},
		{"above uint64", `{"number":18446744073709551616}`, 0, ReasonAboveMax},
		{"zero", `{"number":0}`, 0, ReasonZero},
		{"negative", `{"number":-5}`, 0, ReasonNegative},
		{"negative zero", `{"number":-0}`, 0, ReasonNegative},
		{"fractional", `{"number":1.5}`, 0, ReasonFractional},
		{"fractional exponent", `{"number":15e-1}`, 0, ReasonFractional},
		{"fractional tiny exponent", `{"number":1e-99999999999999999999}`, 0, ReasonFractional},
		{"integral decimal", `{"number":2.000}`, 0, ReasonNotInteger},
		{"integral exponent", `{"number":1e3}`, 0, ReasonNotInteger},
		{"integral exponent with fraction", `{"number":1.25E+2}`, 0, ReasonNotInteger},
		{"integral negative exponent", `{"number":500e-2}`, 0, ReasonNotInteger},
		{"huge exponent", `{"number":1e99999999999999999999}`, 0, ReasonNotInteger},
		{"string", `{"number":"42"}`, 0, ReasonNumberString},
		{"null", `{"number":null}`, 0, ReasonNotNumber},
		{"bool", `{"number":true}`, 0, ReasonNotNumber},
		{"array", `{"number":[1]}`, 0, ReasonNotNumber},
		{"object", `{"number":{"n":1}}`, 0, ReasonNotNumber},
		{"missing", `{"num":1}`, 0, ReasonMissingNumber},
		{"empty object", `{}`, 0, ReasonMissingNumber},
		{"case sensitive key", `{"Number":1}`, 0, ReasonMissingNumber},
		{"duplicate", `{"number":1,"number":2}`, 0, ReasonDuplicateKey},
		{"array top", `[{"number":1}]`, 0, ReasonNotObject},
		{"bare number", `42`, 0, ReasonNotObject},
		{"not json", `number=42`, 0, ReasonNotJSON},
		{"empty", ``, 0, ReasonNotJSON},
		{"trailing data", `{"number":1}{"number":2}`, 0, ReasonNotJSON},
		{"truncated", `{"number":1`, 0, ReasonNotJSON},
		{"invalid utf8 in key", "{\"\xff\":1,\"number\":3}", 3, ""},
		{"too large", `{"number":1,"pad":"` + strings.Repeat("x", 64) + `"}`, 0, ReasonTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse([]byte(c.in), lim)
			if c.rsn == "" {
				if err != nil || got != c.want {
					t.Fatalf("Parse(%q) = %d, %v; want %d, nil", c.in, got, err, c.want)
				}
				return
			}
			r, ok := ReasonOf(err)
			if !ok || r != c.rsn {
				t.Fatalf("Parse(%q) = %d, %v; want reason %q", c.in, got, err, c.rsn)
			}
			if got != 0 {
				t.Fatalf("Parse(%q) returned %d with an error", c.in, got)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	// Zero Limits: no number cap below 2^64, DefaultMaxBytes.
	n, err := Parse([]byte(`{"number":18446744073709551615}`), Limits{})
	if err != nil || n != 18446744073709551615 {
		t.Fatalf("got %d, %v", n, err)
	}
	big := []byte(`{"number":1,"p":"` + strings.Repeat("x", DefaultMaxBytes) + `"}`)
	if _, err := Parse(big, Limits{}); !isReason(err, ReasonTooLarge) {
		t.Fatalf("got %v, want %s", err, ReasonTooLarge)
	}
	if _, err := Parse([]byte(`{"number":1000000000001}`), DefaultLimits()); !isReason(err, ReasonAboveMax) {
		t.Fatalf("got %v, want %s", err, ReasonAboveMax)
	}
}

func TestErrorWrapping(t *testing.T) {
	_, err := Parse([]byte(`x`), Limits{})
	wrapped := errors.Join(errors.New("ctx"), err)
	if r, ok := ReasonOf(wrapped); !ok || r != ReasonNotJSON {
		t.Fatalf("ReasonOf(wrapped) = %q, %v", r, ok)
	}
	if _, ok := ReasonOf(errors.New("other")); ok {
		t.Fatal("ReasonOf(unrelated) reported a reason")
	}
}

func isReason(err error, r Reason) bool {
	got, ok := ReasonOf(err)
	return ok && got == r
}

// FuzzParse checks that Parse never panics, that it either returns a number
// in range or a typed *Error, and that accepted input round-trips.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"number": 42}`, `{"number":-1}`, `{"number":1.5}`, `{"number":"7"}`, `{}`, `[]`, ``,
		`{"number":1e400}`, `{"number":1,"number":2}`, `{"number":18446744073709551616}`,
		`{"a":{"b":[1,2,{"c":null}]},"number":9}`, "\xff\xfe", `{"number":0.0e-0}`,
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxNumber: 1 << 40, MaxBytes: 256}
	f.Fuzz(func(t *testing.T, in []byte) {
		n, err := Parse(in, lim)
		if err != nil {
			if _, ok := ReasonOf(err); !ok {
				t.Fatalf("Parse(%q) error %v has no Reason", in, err)
			}
			if n != 0 {
				t.Fatalf("Parse(%q) = %d with error", in, n)
			}
			return
		}
		if n < 1 || n > lim.MaxNumber {
			t.Fatalf("Parse(%q) = %d out of range", in, n)
		}
		if len(in) > lim.MaxBytes {
			t.Fatalf("Parse accepted %d bytes", len(in))
		}
	})
}
