// Command testsummary reads `go test -json` on stdin and prints what plain
// `go test` would (package results, the output of failed tests, build
// errors), then a summary of the skipped tests with the reason each gave,
// and a closing "N passed, N failed, N skipped" line. It exits 1 when a
// test or package failed, so `make test` keeps failing on failures (the
// Makefile also keeps go test's own exit code with pipefail).
//
//	go test -json ./... | go run ./internal/tools/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

type skip struct{ pkg, test, reason string }

type summary struct {
	passed, failed, skipped int
	failedPkgs              int
	skips                   []skip
}

func main() {
	s, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if s.failed > 0 || s.failedPkgs > 0 {
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) (summary, error) {
	var s summary
	// Output of running tests, kept until the test ends: printed if it
	// fails, searched for the reason if it skips.
	buf := map[string][]string{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event (go vet or build messages): pass it through.
			fmt.Fprintln(out, string(line))
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(out, e.Output)
		case e.Test == "":
			// Package level: ok/FAIL/no test files lines, panics, timeouts.
			if e.Action == "output" && !strings.HasPrefix(e.Output, "=== ") && e.Output != "PASS\n" {
				fmt.Fprint(out, e.Output)
			}
			if e.Action == "fail" {
				s.failedPkgs++
			}
		case e.Action == "output":
			buf[key] = append(buf[key], e.Output)
		case e.Action == "pass":
			s.passed++
			delete(buf, key)
		case e.Action == "fail":
			s.failed++
			for _, o := range buf[key] {
				if !strings.HasPrefix(o, "=== ") {
					fmt.Fprint(out, o)
				}
			}
			delete(buf, key)
		case e.Action == "skip":
			s.skipped++
			s.skips = append(s.skips, skip{e.Package, e.Test, reason(buf[key])})
			delete(buf, key)
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	report(out, s)
	return s, nil
}

// reason is the last message a skipped test logged (its t.Skip text).
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		// "file_test.go:12: why" -> "why (file_test.go:12)"
		if f, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(f, "_test.go:") {
			return msg + " (" + f + ")"
		}
		return l
	}
	return "(no reason given)"
}

func report(out io.Writer, s summary) {
	sort.Slice(s.skips, func(i, j int) bool {
		if s.skips[i].pkg != s.skips[j].pkg {
			return s.skips[i].pkg < s.skips[j].pkg
		}
		return s.skips[i].test < s.skips[j].test
	})
	fmt.Fprintln(out)
	if len(s.skips) == 0 {
		fmt.Fprintln(out, "Skipped tests: none")
	} else {
		fmt.Fprintf(out, "Skipped tests (%d), and why:\n", len(s.skips))
		for _, k := range s.skips {
			fmt.Fprintf(out, "  %s %s: %s\n", strings.TrimPrefix(k.pkg, "github.com/offsetlag/offsetlag/"), k.test, k.reason)
		}
	}
	if s.failedPkgs > 0 {
		fmt.Fprintf(out, "%d packages failed\n", s.failedPkgs)
	}
	fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
}
