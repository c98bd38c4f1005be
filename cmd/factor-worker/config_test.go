package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/internal/settings"
)

// loadRun loads run's configuration as runCmd does, without running.
func loadRun(t *testing.T, args, env []string) (*runConfig, error) {
	t.Helper()
	c := &runConfig{}
	var out bytes.Buffer
	err := loadConfig(c, &produceConfig{}, "run", args, env, &out, runSummary)
	return c, err
}

// The worker reads a YAML file (--config, FACTOR_WORKER_CONFIG
// or OFFSETLAG_CONFIG), FACTOR_WORKER_* and OFFSETLAG_* variables:
// flags over FACTOR_WORKER_* over OFFSETLAG_* over the file, with the
// exporter's strictness.
func TestConfigFileAndEnvironment(t *testing.T) {
	f := filepath.Join(t.TempDir(), "worker.yaml")
	yaml := "kafka:\n  brokers: [k1:9092, k2:9092]\n  tls: {enable: true, ca-file: /ca.pem}\n  sasl: {mechanism: SCRAM-SHA-512, username: w}\n" +
		"topic: [orders]\nbatch-size: 50\nbatch-window: 2s\nmax-retries: 5\nstore: dynamodb\ngroup: g-file\nlog: {level: warn}\n"
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadRun(t, []string{"--config", f, "--batch-size", "70"},
		[]string{"FACTOR_WORKER_BATCH_SIZE=60", "OFFSETLAG_BATCH_SIZE=65", // under the flag
			"FACTOR_WORKER_GROUP=g-env", "OFFSETLAG_GROUP=g-offsetlag", // FACTOR_WORKER_ wins
			"OFFSETLAG_MAX_RETRIES=7",                   // over the file
			"OFFSETLAG_KAFKA_SASL_PASSWORD=s3cret",      // the exporter's name of the same option
			"FACTOR_WORKER_COUNT=5", "OFFSETLAG_SEED=3", // produce's: left alone by run
			"FACTOR_WORKER_TEST_LOG=1", "OFFSETLAG_TEST_X=1", // the test rigs'
			"FACTOR_WORKER_LOG_LEVEL=debug", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != 70 || c.Group != "g-env" || c.MaxRetries != 7 || c.BatchWindow != 2*time.Second || c.Store != "dynamodb" ||
		len(c.Kafka.Brokers) != 2 || c.Topics[0] != "orders" || c.FailureTopic != "numbers-failed" || c.Log.Level != "debug" {
		t.Errorf("precedence: %+v", c)
	}
	if sec := c.Kafka.security(); !sec.TLS.Enable || sec.TLS.CAFile != "/ca.pem" || sec.SASL.Username != "w" || sec.SASL.Password != "s3cret" {
		t.Errorf("security %s", sec)
	}
	for _, v := range []string{"FACTOR_WORKER_CONFIG", "OFFSETLAG_CONFIG"} {
		c, err = loadRun(t, nil, []string{v + "=" + f})
		if err != nil || c.BatchSize != 50 {
			t.Errorf("file from %s: %+v %v", v, c, err)
		}
	}
	// --config.file, the spelling before the convention, still reads it.
	if c, err = loadRun(t, []string{"--config.file", f}, nil); err != nil || c.BatchSize != 50 {
		t.Errorf("--config.file: %+v %v", c, err)
	}
	// OFFSETLAG_* alone sets an option (the exporter's variables of the
	// same key serve both).
	c, err = loadRun(t, nil, []string{"OFFSETLAG_KAFKA_BROKERS=x:1,y:2", "OFFSETLAG_KAFKA_VERSION=3.9.0"})
	if err != nil || strings.Join(c.Kafka.Brokers, ",") != "x:1,y:2" || c.Kafka.Version != "3.9.0" {
		t.Errorf("OFFSETLAG_KAFKA_*: %+v %v", c.Kafka, err)
	}

	for _, tc := range []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"unknown key", "batch-sise: 3\n", nil, "invalid keys: batch-sise"},
		{"produce's key in run's file", "count: 3\n", nil, "invalid keys: count"},
		{"unknown variable", "", []string{"FACTOR_WORKER_BATCH_SISE=3"}, "environment variable FACTOR_WORKER_BATCH_SISE: unknown option"},
		{"unknown OFFSETLAG_ variable", "", []string{"OFFSETLAG_BATCH_SISE=3"}, "environment variable OFFSETLAG_BATCH_SISE: unknown option"},
		{"the exporter's option", "", []string{"OFFSETLAG_POLL_INTERVAL=30s"}, "environment variable OFFSETLAG_POLL_INTERVAL: unknown option"},
		{"old variable name", "", []string{"FACTOR_WORKER_BROKERS=k:1"}, "environment variable FACTOR_WORKER_BROKERS: unknown option"},
		{"old file key", "brokers: [k:1]\n", nil, "invalid keys: brokers"},
		{"bad OFFSETLAG_ value", "", []string{"OFFSETLAG_BATCH_SIZE=0"}, "--batch-size 0: out of range, want 1 to 10000"},
		{"bare duration", "batch-window: 30\n", nil, "batch-window: bare number 30"},
		{"bare duration in the environment", "", []string{"FACTOR_WORKER_STORE_TIMEOUT=30"}, "store-timeout: bare number 30"},
		{"range", "batch-size: 0\n", nil, "--batch-size 0: out of range, want 1 to 10000"},
		{"fraction", "batch-size: 2.5\n", nil, "want a whole number"},
		{"missing file", "", []string{"FACTOR_WORKER_CONFIG=/nonexistent.yaml"}, "config file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.yaml != "" {
				g := filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(g, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = []string{"--config", g}
			}
			// Through the whole command line: exit 2, one line.
			var stdout, stderr bytes.Buffer
			code := cliEnv(append([]string{"run"}, args...), tc.env, &stdout, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if code != exitUsage || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line with %q", code, stderr.String(), tc.want)
			}
		})
	}
}

// produce reads its own options from the file and the environment.
func TestProduceConfig(t *testing.T) {
	f := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(f, []byte("topic: t1\ncount: 7\nrate: 2.5\nmax: 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &produceConfig{}
	var out bytes.Buffer
	err := loadConfig(c, &runConfig{}, "produce", []string{"--config", f},
		[]string{"FACTOR_WORKER_SEED=9", "OFFSETLAG_SEED=8", "FACTOR_WORKER_BATCH_SIZE=1", "OFFSETLAG_KAFKA_CLIENT_ID=x"}, &out, produceSummary)
	if err != nil {
		t.Fatal(err)
	}
	if c.Topic != "t1" || c.Count != 7 || c.Rate != 2.5 || c.Max != 1000 || c.Min != 1 || c.Seed != 9 {
		t.Errorf("%+v", c)
	}
}

// configs/factor-worker.yaml loads, and agrees with run --help: every
// option with its default, and its range in the line's comment.
func TestShippedConfigMatchesHelp(t *testing.T) {
	const path = "../../configs/factor-worker.yaml"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := loadRun(t, []string{"--config", path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defaults := &runConfig{}
	defaults.SetDefaults()
	for _, m := range spec.ExampleMismatches(defaults, shipped, raw, nil) {
		t.Errorf("%s: %s", path, m)
	}
	// Its header names produce's options (top-level keys).
	_, produceKeys, _ := strings.Cut(string(raw), "`factor-worker produce --config`")
	produceKeys, _, _ = strings.Cut(produceKeys, "\n\n")
	p := &produceConfig{}
	p.SetDefaults()
	for _, o := range spec.Options(p) {
		if key, _, _ := strings.Cut(o.Key, "."); !regexp.MustCompile(`\b` + key + `\b`).MatchString(produceKeys) {
			t.Errorf("%s: the header does not name produce's %s", path, key)
		}
	}
}

// Every deprecated flag spelling sets the option of its new name, is
// hidden from --help and is warned about once the command line is good.
func TestDeprecatedFlags(t *testing.T) {
	for old, now := range deprecatedFlags {
		t.Run(old, func(t *testing.T) {
			var cfg, other configurable = &runConfig{}, &produceConfig{}
			name, summary := "run", runSummary
			cfg.SetDefaults()
			var out bytes.Buffer
			val := "/x/" + old
			// The file flag is no option: TestConfigFileAndEnvironment
			// reads a file through --config.file.
			if now != spec.FileFlag {
				val = setThroughAlias(t, cfg, other, old, now, &out)
			}
			if err := loadConfig(cfg, other, name, []string{"--help"}, nil, &out, summary); !errors.Is(err, pflag.ErrHelp) {
				t.Fatal(err)
			}
			flags := out.String()[strings.Index(out.String(), "\nFlags:\n"):]
			if regexp.MustCompile(`(?m)^\s+--`+regexp.QuoteMeta(old)+`\b`).MatchString(flags) ||
				!strings.Contains(out.String(), "--"+old+" (--"+now+")") {
				t.Errorf("--help: --%s listed as a flag, or not as a deprecated spelling of --%s", old, now)
			}
			var logs bytes.Buffer
			log, _ := newLogger(&logs, LogOptions{Level: "info", Format: "logfmt"})
			warnDeprecated(log, []string{"--" + old, val, "--" + old + "=" + val})
			if strings.Count(logs.String(), "\n") != 1 || !strings.Contains(logs.String(), "--"+old+" is deprecated: use --"+now) {
				t.Errorf("warning: %q", logs.String())
			}
		})
	}
}

// option returns the option whose flag is name.
func option(cfg configurable, name string) (settings.Option, bool) {
	for _, o := range spec.Options(cfg) {
		if o.Flag == name {
			return o, true
		}
	}
	return settings.Option{}, false
}

// setThroughAlias sets option now of cfg through its deprecated spelling
// old and checks it took the value, which it returns.
func setThroughAlias(t *testing.T, cfg, other configurable, old, now string, out *bytes.Buffer) string {
	t.Helper()
	opt, ok := option(cfg, now)
	if !ok {
		t.Fatalf("--%s: no option --%s", old, now)
	}
	val := map[reflect.Kind]string{reflect.Bool: "true", reflect.Slice: "k9:9092", reflect.String: "/x/" + old}[opt.Type.Kind()]
	if val == "" {
		t.Fatalf("--%s: type %s", now, opt.Type)
	}
	if err := loadConfig(cfg, other, "run", []string{"--" + old + "=" + val}, nil, out, runSummary); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(opt.Get(cfg))
	if v := reflect.ValueOf(opt.Get(cfg)); v.Kind() == reflect.String {
		got = v.String() // a Secret prints redacted
	}
	if got != val && got != "["+val+"]" {
		t.Errorf("--%s=%s: --%s is %s", old, val, now, got)
	}
	return val
}
