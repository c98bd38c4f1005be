package cli_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// binary is one command of the module and how the convention applies to
// it.
type binary struct {
	name string
	// commands are the argument prefixes the flag rules run under: none for
	// a plain binary, each subcommand of factor-worker.
	commands [][]string
	// logFlags: the binary logs and takes --log.level and --log.format
	// (offsetlag-bench writes a report, no log).
	logFlags bool
	// valid are arguments that pass validation up to the logger (the
	// exporter needs a broker).
	valid []string
	// kafkaFlag is the Kafka protocol version flag, empty when the binary
	// has none (the demo uses the same default internally).
	kafkaFlag string
	// deprecated are old flag spellings that must still parse, hidden from
	// --help but listed there as "--old (--new)", each with a bad value
	// that the new flag's check reports.
	deprecated []alias
	// shares are the sections of the exporter's options (kafka, log, ...)
	// the binary takes too: spelled as the exporter spells them.
	shares []string
}

// alias is a deprecated spelling, the flag it sets and a value that flag
// rejects.
type alias struct{ old, now, bad string }

var binaries = []binary{
	{name: "offsetlag-exporter", commands: [][]string{nil}, logFlags: true, valid: []string{"--kafka.brokers", "127.0.0.1:1"},
		kafkaFlag: "--kafka.version"},
	{name: "factor-worker", commands: [][]string{{"run"}, {"produce"}}, logFlags: true, kafkaFlag: "--kafka.version",
		shares: []string{"kafka", "log", "web"},
		deprecated: []alias{{"--log-level", "--log.level", "loud"}, {"--log-format", "--log.format", "xml"},
			{"--kafka-version", "--kafka.version", "2.0.0"}, {"--tls-ca-file", "--kafka.tls", "/ca.pem"},
			{"--sasl-mechanism", "--kafka.sasl.mechanism", "NTLM"}}},
	{name: "offsetlag-demo", commands: [][]string{nil}, logFlags: true, shares: []string{"log", "web", "poll"}},
	// Its --namespace, --region, ... are the dashboards' and alarms', not
	// the exporter's cloudwatch.* (which publish metrics).
	{name: "offsetlag-cloudwatch", commands: [][]string{nil}, logFlags: true, shares: []string{"log"}},
	{name: "offsetlag-bench", commands: [][]string{nil}},
}

// Stamped like the Makefile and the Dockerfile do.
const (
	stampVersion = "9.9.9-clitest"
	stampRev     = "abc1234"
	stampDate    = "20261130-17:00:00"
)

// build compiles every binary of cmd/ once, with the release stamps, as
// `make build` does (CGO_ENABLED=0 -trimpath: it shares its build cache).
func build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ld := "-X github.com/prometheus/common/version.Version=" + stampVersion +
		" -X github.com/prometheus/common/version.Revision=" + stampRev +
		" -X github.com/prometheus/common/version.Branch=main" +
		" -X github.com/prometheus/common/version.BuildDate=" + stampDate +
		" -X github.com/prometheus/common/version.BuildUser=clitest"
	goBin := "go" // the go command that runs the test, else the one on PATH
	if root := os.Getenv("GOROOT"); root != "" {
		goBin = filepath.Join(root, "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags", ld, "-o", dir+"/", "../../cmd/...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/...: %v\n%s", err, out)
	}
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b.name)); err != nil {
			t.Fatalf("%s was not built: %v", b.name, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(binaries) {
		t.Fatalf("built %d binaries, the table has %d: every binary of cmd/ follows the convention", len(entries), len(binaries))
	}
	return dir
}

type result struct {
	code           int
	stdout, stderr string
}

func runBin(t *testing.T, dir, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(dir, name), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

// oneLine checks the bad-input rule: exit 2, nothing on stdout, one line
// on stderr that names the binary and contains want.
func oneLine(t *testing.T, r result, name, want string) {
	t.Helper()
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(r.stderr, name) ||
		!strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q: want one line starting with %q naming %q", r.stderr, name, want)
	}
}

var versionRE = regexp.MustCompile(`(?m)^(\S+), version (\S+) \(branch: (\S+), revision: (\S+)\)\n\s+build user:\s+(\S+)\n\s+build date:\s+(\S+)\n\s+go version:\s+(go1\.\S+)\n`)

// TestConvention builds every binary and checks each rule of the
// convention (package comment) on it.
func TestConvention(t *testing.T) {
	testenv.SkipShort(t, "builds every binary")
	dir := build(t)
	exporterFlags := visibleFlags(runBin(t, dir, "offsetlag-exporter", "--help").stdout)
	if len(exporterFlags) < 50 {
		t.Fatalf("offsetlag-exporter --help lists %d flags", len(exporterFlags))
	}
	kafkaDefaults := map[string]string{}
	for _, b := range binaries {
		t.Run(b.name, func(t *testing.T) {
			t.Run("version", func(t *testing.T) { checkVersion(t, dir, b) })
			t.Run("help", func(t *testing.T) { checkHelp(t, dir, b) })
			for _, cmd := range b.commands {
				label := strings.Join(append([]string{"cmd"}, cmd...), "-")
				t.Run(label, func(t *testing.T) {
					if v := checkCommand(t, dir, b, cmd, exporterFlags); v != "" {
						kafkaDefaults[b.name+" "+label] = v
					}
				})
			}
		})
	}
	// One Kafka protocol default across binaries, the exporter's.
	if len(kafkaDefaults) < 3 {
		t.Errorf("Kafka protocol defaults found: %v, want the exporter's and factor-worker's run and produce", kafkaDefaults)
	}
	for where, v := range kafkaDefaults {
		if v != kafkaadmin.DefaultVersion {
			t.Errorf("%s: Kafka protocol default %s, want %s like every binary", where, v, kafkaadmin.DefaultVersion)
		}
	}
	// factor-worker without a command: bad input too.
	oneLine(t, runBin(t, dir, "factor-worker"), "factor-worker", "missing command")
}

// checkVersion: --version prints the stamped version, revision, build date
// and the Go version on stdout, exit 0.
func checkVersion(t *testing.T, dir string, b binary) {
	r := runBin(t, dir, b.name, "--version")
	m := versionRE.FindStringSubmatch(r.stdout)
	if r.code != 0 || r.stderr != "" || m == nil {
		t.Fatalf("--version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if m[1] != b.name || m[2] != stampVersion || m[4] != stampRev || m[6] != stampDate || m[7] != runtime.Version() {
		t.Errorf("--version reports %q, want %s %s %s %s %s", m[0], b.name, stampVersion, stampRev, stampDate, runtime.Version())
	}
}

// checkHelp: --help and -h print the usage on stdout, exit 0.
func checkHelp(t *testing.T, dir string, b binary) {
	for _, h := range []string{"--help", "-h"} {
		r := runBin(t, dir, b.name, h)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, b.name) || !strings.Contains(r.stdout, "Usage") {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want the usage on stdout, exit 0", h, r.code, r.stderr, r.stdout)
		}
	}
}

// checkCommand checks the flag rules under the argument prefix cmd and
// returns the Kafka protocol default its --help shows ("" without one).
func checkCommand(t *testing.T, dir string, b binary, cmd []string, exporterFlags []string) string {
	args := func(a ...string) []string { return append(append(append([]string{}, cmd...), b.valid...), a...) }
	help := runBin(t, dir, b.name, append(cmd, "--help")...)
	if help.code != 0 || help.stderr != "" || !strings.Contains(help.stdout, "Flags:") {
		t.Fatalf("%v --help: exit %d, stderr %q, stdout %q", cmd, help.code, help.stderr, help.stdout)
	}
	oneLine(t, runBin(t, dir, b.name, args("--no-such-flag")...), b.name, "no-such-flag")
	oneLine(t, runBin(t, dir, b.name, args("stray")...), b.name, `unexpected argument "stray"`)
	if b.logFlags {
		for _, f := range []string{"--log.level", "--log.format"} {
			if !strings.Contains(help.stdout, f+" ") {
				t.Errorf("--help does not list %s", f)
			}
		}
		oneLine(t, runBin(t, dir, b.name, args("--log.level", "loud")...), b.name, `log.level "loud": want debug, info, warn or error`)
		oneLine(t, runBin(t, dir, b.name, args("--log.format", "xml")...), b.name, `log.format "xml": want logfmt or json`)
	}
	visible := visibleFlags(help.stdout)
	for _, f := range visible {
		if e := exporterSpelling(f, exporterFlags, b.shares); e != "" {
			t.Errorf("--%s: the exporter spells this option --%s (one spelling for every binary)", f, e)
		}
	}
	for _, a := range b.deprecated {
		if slices.Contains(visible, strings.TrimPrefix(a.old, "--")) {
			t.Errorf("--help lists the deprecated %s", a.old)
		}
		if !strings.Contains(help.stdout, a.old+" ("+a.now) {
			t.Errorf("--help does not list %s as a deprecated spelling of %s", a.old, a.now)
		}
		// The old spelling still sets the new flag: its check answers.
		oneLine(t, runBin(t, dir, b.name, args(a.old, a.bad)...), b.name, a.now)
	}
	if b.kafkaFlag == "" {
		return ""
	}
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(b.kafkaFlag) + ` string .*\(default "([^"]+)"\)$`).FindStringSubmatch(help.stdout)
	if m == nil {
		t.Errorf("--help shows no default of %s", b.kafkaFlag)
		return ""
	}
	return m[1]
}

// visibleFlags are the long flags --help lists, without "--".
func visibleFlags(help string) []string {
	_, flags, _ := strings.Cut(help, "\nFlags:\n")
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([\w.-]+)`).FindAllStringSubmatch(flags, -1) {
		out = append(out, m[1])
	}
	return out
}

// exporterSpelling returns the exporter's flag that f spells otherwise, ""
// when f follows the convention: an option of a section the binary shares
// with the exporter is written as the exporter's, dotted (--kafka.version,
// not --kafka-version; --kafka.brokers, not --brokers; --kafka.tls.ca-file,
// not --tls-ca-file), and no flag starts with such a section and a dash.
func exporterSpelling(f string, exporterFlags, shares []string) string {
	dash := func(s string) string { return strings.ReplaceAll(s, ".", "-") }
	// The YAML file of every binary is --config, as the exporter's.
	if (strings.HasPrefix(f, "config.") || strings.HasPrefix(f, "config-")) && slices.Contains(exporterFlags, "config") {
		return "config"
	}
	for _, e := range exporterFlags {
		section, rest, dotted := strings.Cut(e, ".")
		if !dotted || !slices.Contains(shares, section) || f == e {
			continue
		}
		if dash(f) == dash(e) || !strings.Contains(f, ".") && dash(f) == dash(rest) {
			return e
		}
	}
	for _, s := range shares {
		if strings.HasPrefix(f, s+"-") {
			return s + "." + strings.TrimPrefix(f, s+"-")
		}
	}
	return ""
}

// The spelling rule on factor-worker's flags before the convention and
// after, without building anything.
func TestExporterSpelling(t *testing.T) {
	exporter := []string{"config", "web.config-file", "kafka.brokers", "kafka.version", "kafka.client-id", "kafka.tls.ca-file",
		"kafka.sasl.password-file", "log.level", "web.listen-address", "ha.group", "shard.count"}
	shares := []string{"kafka", "log", "web"}
	for f, want := range map[string]string{
		"brokers": "kafka.brokers", "kafka-version": "kafka.version", "client-id": "kafka.client-id",
		"tls-ca-file": "kafka.tls.ca-file", "sasl-password-file": "kafka.sasl.password-file", "log-level": "log.level",
		"kafka-isolation": "kafka.isolation", "web-listen-address": "web.listen-address",
		"kafka.brokers": "", "log.level": "", "group": "", "count": "", "topic": "", "config.file": "config", "config-file": "config", "config": "", "batch-size": "",
		"web.config-file": "", "kafka.tls-ca-file": "kafka.tls.ca-file",
	} {
		if got := exporterSpelling(f, exporter, shares); got != want {
			t.Errorf("--%s: %q, want %q", f, got, want)
		}
	}
}
