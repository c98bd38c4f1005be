package cloudwatch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// InvalidNames says what happens to a datum whose dimension value
// CloudWatch would reject (see ValidDimensionValue).
type InvalidNames string

// InvalidNames policies.
const (
	// InvalidNamesMap publishes the datum under MapDimensionValue's
	// mapping of the value (default).
	InvalidNamesMap InvalidNames = "map"
	// InvalidNamesDrop leaves the datum out (counted as dropped, reason
	// invalid_name).
	InvalidNamesDrop InvalidNames = "drop"
)

// mappedHashLen is the length of the hash suffix of a mapped value
// ("~" and 8 hex digits).
const mappedHashLen = 9

// ValidDimensionValue reports whether CloudWatch accepts v as a dimension
// value: 1 to 1,024 characters, ASCII only, no ASCII control character,
// at least one non-whitespace character (CloudWatch API reference,
// Dimension). The same rules hold for EMF.
func ValidDimensionValue(v string) bool {
	if len(v) == 0 || len(v) > maxDimensionValue {
		return false
	}
	nonSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e {
			return false // control character (incl. tab, newline, DEL) or not ASCII
		}
		if c != ' ' {
			nonSpace = true
		}
	}
	return nonSpace
}

// MapDimensionValue returns v unchanged when CloudWatch accepts it, and
// otherwise an ASCII value CloudWatch accepts:
//
//   - every character that is not printable ASCII becomes \uXXXX (\UXXXXXXXX
//     above U+FFFF; an invalid UTF-8 byte \xXX), as in Go and JSON strings;
//     a value of spaces only has its spaces escaped (\u0020); "\" itself is
//     kept;
//   - then "~" and the first 8 hex digits of the SHA-256 of the original
//     value are appended, so two names never map to the same value;
//   - the escaped part is trimmed so the result has at most 1,024
//     characters.
//
// "café-orders" becomes "caf\u00e9-orders~4e9c2f1a" (the hash differs). The
// mapping is a pure function: alarms and dashboards can use it
// (offsetlag-cloudwatch does), and a human can read the original back
// (unless it was trimmed; the hash then still tells it apart).
func MapDimensionValue(v string) string {
	if ValidDimensionValue(v) {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	suffix := "~" + hex.EncodeToString(sum[:4])
	spacesOnly := strings.Trim(v, " ") == ""
	var b strings.Builder
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, v[i])
		case r == ' ' && spacesOnly:
			b.WriteString(`\u0020`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	body := b.String()
	if limit := maxDimensionValue - mappedHashLen; len(body) > limit {
		body = body[:limit]
	}
	return body + suffix
}
