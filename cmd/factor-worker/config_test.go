package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadRun loads run's configuration as runCmd does, without running.
func loadRun(t *testing.T, args, env []string) (*runConfig, error) {
	t.Helper()
	c := &runConfig{}
	var out bytes.Buffer
	err := loadConfig(c, &produceConfig{}, "run", args, env, &out, runSummary)
	return c, err
}

// The worker reads a YAML file (--config.file or
// FACTOR_WORKER_CONFIG_FILE) and FACTOR_WORKER_* variables, flags over the
// environment over the file, with the exporter's strictness.
func TestConfigFileAndEnvironment(t *testing.T) {
	f := filepath.Join(t.TempDir(), "worker.yaml")
	yaml := "brokers: [k1:9092, k2:9092]\ntopic: [orders]\nbatch-size: 50\nbatch-window: 2s\nstore: dynamodb\n" +
		"tls: {enable: true, ca-file: /ca.pem}\nsasl: {mechanism: SCRAM-SHA-512, username: w}\n"
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadRun(t, []string{"--config.file", f, "--batch-size", "70"},
		[]string{"FACTOR_WORKER_BATCH_SIZE=60", "FACTOR_WORKER_GROUP=g-env", "FACTOR_WORKER_SASL_PASSWORD=s3cret",
			"FACTOR_WORKER_COUNT=5", // produce's: left alone by run
			"FACTOR_WORKER_TEST_LOG=1", "OFFSETLAG_KAFKA_BROKERS=x:1", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != 70 || c.Group != "g-env" || c.BatchWindow != 2*time.Second || c.Store != "dynamodb" ||
		len(c.Brokers) != 2 || c.Topics[0] != "orders" || c.FailureTopic != "numbers-failed" {
		t.Errorf("precedence: %+v", c)
	}
	if sec := c.security(); !sec.TLS.Enable || sec.TLS.CAFile != "/ca.pem" || sec.SASL.Username != "w" || sec.SASL.Password != "s3cret" {
		t.Errorf("security %s", sec)
	}
	c, err = loadRun(t, nil, []string{"FACTOR_WORKER_CONFIG_FILE=" + f})
	if err != nil || c.BatchSize != 50 {
		t.Errorf("file from FACTOR_WORKER_CONFIG_FILE: %+v %v", c, err)
	}

	for _, tc := range []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"unknown key", "batch-sise: 3\n", nil, "invalid keys: batch-sise"},
		{"produce's key in run's file", "count: 3\n", nil, "invalid keys: count"},
		{"unknown variable", "", []string{"FACTOR_WORKER_BATCH_SISE=3"}, "environment variable FACTOR_WORKER_BATCH_SISE: unknown option"},
		{"bare duration", "batch-window: 30\n", nil, "batch-window: bare number 30"},
		{"bare duration in the environment", "", []string{"FACTOR_WORKER_STORE_TIMEOUT=30"}, "store-timeout: bare number 30"},
		{"range", "batch-size: 0\n", nil, "--batch-size 0: out of range, want 1 to 10000"},
		{"fraction", "batch-size: 2.5\n", nil, "want a whole number"},
		{"missing file", "", []string{"FACTOR_WORKER_CONFIG_FILE=/nonexistent.yaml"}, "config file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.yaml != "" {
				g := filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(g, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = []string{"--config.file", g}
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
	err := loadConfig(c, &runConfig{}, "produce", []string{"--config.file", f}, []string{"FACTOR_WORKER_SEED=9", "FACTOR_WORKER_BATCH_SIZE=1"}, &out, produceSummary)
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
	shipped, err := loadRun(t, []string{"--config.file", path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defaults := &runConfig{}
	defaults.SetDefaults()
	for _, m := range spec.ExampleMismatches(defaults, shipped, raw, nil) {
		t.Errorf("%s: %s", path, m)
	}
}
