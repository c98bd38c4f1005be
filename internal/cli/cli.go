// Package cli is the command-line convention every offsetlag binary
// follows (offsetlag-exporter, factor-worker, offsetlag-demo,
// offsetlag-cloudwatch, offsetlag-bench), checked by this package's tests
// on the built binaries:
//
//   - --help (-h) prints the usage on stdout and exits 0;
//   - --version prints the version, revision, branch, build date and user
//     and the Go version on stdout and exits 0;
//   - --log.level (debug, info, warn, error; default info) and --log.format
//     (logfmt or json; default logfmt) set the logger, one implementation
//     (promslog) for all;
//   - an option a binary shares with the exporter (a kafka., log., web.
//     section) is spelled as the exporter's: --kafka.brokers,
//     --kafka.tls.ca-file, --web.listen-address; older spellings stay as
//     hidden, deprecated aliases (factor-worker's --brokers, --tls-ca-file,
//     --log-level, ...: Alias);
//   - a bad flag, value or argument prints one line on stderr, naming the
//     binary and the problem, and exits 2; a runtime failure exits 1.
//
// It imports no product package.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"
	"github.com/spf13/pflag"
)

// Exit codes of every binary.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Log defaults and values, the same for every binary.
const (
	DefaultLogLevel  = "info"
	DefaultLogFormat = "logfmt"
	LogLevels        = "debug, info, warn or error"
	LogFormats       = "logfmt or json"
)

// UsageError is bad input (a flag, a value, an argument): one line on
// stderr, exit 2.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error { return UsageError{fmt.Sprintf(format, args...)} }

// ErrDone is returned by Parse after --help or --version was answered:
// exit 0.
var ErrDone = errors.New("done")

// Parse parses args with fs. --help prints usage (then fs's flags) on
// stdout, --version the version (when fs has no version flag, Parse adds
// it); both return ErrDone. A bad flag or a stray argument is a
// UsageError. fs prints nothing itself.
func Parse(fs *pflag.FlagSet, name string, args []string, stdout io.Writer, usage string) error {
	if fs.Lookup("version") == nil {
		fs.Bool("version", false, "print the version, revision, build date and Go version, then exit")
	}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			PrintUsage(stdout, fs, usage)
			return ErrDone
		}
		return UsageError{err.Error()}
	}
	if v, _ := fs.GetBool("version"); v {
		fmt.Fprintln(stdout, VersionText(name))
		return ErrDone
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// PrintUsage writes usage, then the flags of fs, to w.
func PrintUsage(w io.Writer, fs *pflag.FlagSet, usage string) {
	fmt.Fprintf(w, "%s\n\nFlags:\n%s", strings.TrimRight(usage, "\n"), fs.FlagUsages())
}

// Exit prints err as the convention wants and returns the exit code: nil
// and ErrDone 0; a UsageError one line "name: problem" on stderr, 2;
// anything else one line, 1.
func Exit(name string, err error, stderr io.Writer) int {
	var ue UsageError
	switch {
	case err == nil || errors.Is(err, ErrDone):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %s\n", name, OneLine(ue.Msg))
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "%s: %s\n", name, OneLine(err.Error()))
		return ExitFailure
	}
}

// OneLine joins the lines of a message with "; ".
func OneLine(msg string) string {
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// VersionText is what --version prints: prometheus/common/version's
// report, with the fields a plain `go build` leaves empty (the Makefile
// and the Dockerfile set them with -ldflags -X) filled from the build
// information or "unknown".
func VersionText(name string) string {
	fill := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		fill(&version.Version, strings.Trim(bi.Main.Version, "()"))
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				fill(&version.BuildDate, s.Value)
			}
		}
	}
	for _, p := range []*string{&version.Version, &version.Revision, &version.Branch, &version.BuildDate, &version.BuildUser} {
		fill(p, "unknown")
	}
	return version.Print(name)
}

// LogFlags adds --log.level and --log.format to fs; read them after
// parsing.
func LogFlags(fs *pflag.FlagSet) (level, format *string) {
	level = fs.String("log.level", DefaultLogLevel, "log level: "+LogLevels)
	format = fs.String("log.format", DefaultLogFormat, "log format: "+LogFormats)
	return level, format
}

// Alias makes each old name (a key of aliases) a hidden, deprecated
// spelling of the flag named by its value: using it sets that flag, as if
// it had been given (pflag normalizes the name); --help shows only the new
// name.
func Alias(fs *pflag.FlagSet, aliases map[string]string) {
	prev := fs.GetNormalizeFunc()
	fs.SetNormalizeFunc(func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := aliases[name]; ok {
			name = to
		}
		return prev(f, name)
	})
}

// Aliased reports whether one of the deprecated aliases was used in args,
// for a warning.
func Aliased(args []string, old ...string) []string {
	var used []string
	for _, a := range args {
		if a == "--" {
			break
		}
		for _, o := range old {
			if a == "--"+o || strings.HasPrefix(a, "--"+o+"=") {
				used = append(used, o)
			}
		}
	}
	return used
}

// ParseLog is Parse, then NewLogger (on stderr) of fs's --log.level and
// --log.format flags (LogFlags, or the binary's own with those names):
// the start of a binary whose log flags are plain flags.
func ParseLog(fs *pflag.FlagSet, name string, args []string, stdout, stderr io.Writer, usage string) (*slog.Logger, error) {
	if err := Parse(fs, name, args, stdout, usage); err != nil {
		return nil, err
	}
	level, _ := fs.GetString("log.level")
	format, _ := fs.GetString("log.format")
	return NewLogger(stderr, level, format)
}

// NewLogger returns the logger of level and format (promslog, on w); a
// bad value is a UsageError naming the flag.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	pc := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat(), Writer: w}
	if err := pc.Level.Set(level); err != nil {
		return nil, Usagef("--log.level %q: want %s", level, LogLevels)
	}
	if err := pc.Format.Set(format); err != nil {
		return nil, Usagef("--log.format %q: want %s", format, LogFormats)
	}
	return promslog.New(pc), nil
}
