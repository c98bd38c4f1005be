package cli_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/internal/cli"
)

// A test binary carries no -ldflags stamps: --version says unknown for
// what the build did not record, never an empty field.
func TestVersionWithoutStamps(t *testing.T) {
	v := cli.VersionText("x")
	m := versionRE.FindStringSubmatch(v + "\n")
	if m == nil || m[1] != "x" {
		t.Fatalf("VersionText = %q: a field is empty", v)
	}
	for _, f := range m[2:] {
		if strings.TrimSpace(f) == "" {
			t.Errorf("empty field in %q", v)
		}
	}
}

// An alias sets the new flag (Changed, as if given) and stays out of the
// usage.
func TestAlias(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	level, _ := cli.LogFlags(fs)
	cli.Alias(fs, map[string]string{"log-level": "log.level"})
	var out bytes.Buffer
	if err := cli.Parse(fs, "x", []string{"--log-level", "debug"}, &out, "Usage: x"); err != nil {
		t.Fatal(err)
	}
	if *level != "debug" || !fs.Changed("log.level") {
		t.Errorf("--log-level debug: log.level %q, changed %v", *level, fs.Changed("log.level"))
	}
	if used := cli.Aliased([]string{"--log-level=debug", "--", "--log-level"}, "log-level"); len(used) != 1 {
		t.Errorf("Aliased = %v, want one use before --", used)
	}
	out.Reset()
	if err := cli.Parse(fs, "x", []string{"--help"}, &out, "Usage: x"); !errors.Is(err, cli.ErrDone) {
		t.Fatalf("--help: %v", err)
	}
	if strings.Contains(out.String(), "log-level") || !strings.Contains(out.String(), "--log.level") {
		t.Errorf("usage:\n%s", out.String())
	}
}

// Exit codes and one-line messages.
func TestExit(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		line string
	}{
		{nil, 0, ""},
		{cli.ErrDone, 0, ""},
		{cli.Usagef("bad %s", "flag"), 2, "x: bad flag\n"},
		{errors.New("two\nlines"), 1, "x: two; lines\n"},
	} {
		var errb bytes.Buffer
		if code := cli.Exit("x", c.err, &errb); code != c.code || errb.String() != c.line {
			t.Errorf("Exit(%v) = %d, %q; want %d, %q", c.err, code, errb.String(), c.code, c.line)
		}
	}
}
