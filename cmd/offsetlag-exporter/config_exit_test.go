package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets a test run this test binary as the exporter itself
// (OFFSETLAG_TEST_RUN_MAIN=1): main() with its real os.Exit.
func TestMain(m *testing.M) {
	if os.Getenv("OFFSETLAG_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{name}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

// runMain runs the exporter's main() in a child process and returns its
// exit code and stderr.
func runMain(t *testing.T, args []string, env []string) (int, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append([]string{"OFFSETLAG_TEST_RUN_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// A bare number for a duration, or a number out of its range, in the file,
// the environment or a flag: the process exits 2 with one line on stderr
// naming the key.
func TestBadNumbersExitTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		f := filepath.Join(dir, strings.NewReplacer(" ", "", ":", "", "{", "", "}", "", "\n", "").Replace(body)+".yaml")
		if err := os.WriteFile(f, []byte(body+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, c := range []struct {
		name string
		args []string
		env  []string
		key  string
	}{
		{"yaml poll.interval 30", []string{"--config", file("kafka: {brokers: [127.0.0.1:1]}\npoll: {interval: 30}")}, nil, "poll.interval"},
		{"yaml offsets-retention 604800", []string{"--config", file("kafka: {brokers: [127.0.0.1:1], offsets-retention: 604800}")}, nil, "kafka.offsets-retention"},
		{"yaml expiry.tolerance 5", []string{"--config", file("kafka: {brokers: [127.0.0.1:1]}\nexpiry: {tolerance: 5}")}, nil, "expiry.tolerance"},
		{"env offsets-retention 604800", nil, []string{"OFFSETLAG_KAFKA_BROKERS=127.0.0.1:1", "OFFSETLAG_KAFKA_OFFSETS_RETENTION=604800"}, "kafka.offsets-retention"},
		{"flag poll.interval 30", []string{"--kafka.brokers", "127.0.0.1:1", "--poll.interval", "30"}, nil, "--poll.interval"},
		{"yaml status.window 1e8", []string{"--config", file("kafka: {brokers: [127.0.0.1:1]}\nstatus: {window: 1e8}")}, nil, "status.window"},
		{"flag exact-above-records -5", []string{"--kafka.brokers", "127.0.0.1:1", "--timelag.exact-above-records", "-5"}, nil, "timelag.exact-above-records"},
		{"env dial-timeout 1ns", nil, []string{"OFFSETLAG_KAFKA_BROKERS=127.0.0.1:1", "OFFSETLAG_KAFKA_DIAL_TIMEOUT=1ns"}, "kafka.dial-timeout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := runMain(t, c.args, c.env)
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.key) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line naming %s", code, stderr, c.key)
			}
			t.Logf("exit %d: %s", code, lines[0])
		})
	}
	// The same through run(), which the other tests use.
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--config", file("kafka: {brokers: [127.0.0.1:1], offsets-retention: 604800}")}, nil, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "kafka.offsets-retention") {
		t.Errorf("run: exit %d, stderr %q", code, errOut.String())
	}
}

// --ha.enabled with static sharding or a state directory: exit 2, one line.
func TestHAExclusionsExitTwo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ha.enabled", "--shard.count", "2"}, "ha.enabled and shard.index/shard.count are exclusive"},
		{[]string{"--ha.enabled", "--state.dir", t.TempDir()}, "ha.enabled and state.dir are exclusive"},
		{[]string{"--ha.enabled", "--ha.cluster", "other"}, `ha.cluster "other": no such cluster`},
	} {
		code, stderr := runMain(t, append([]string{"--kafka.brokers", "127.0.0.1:1"}, c.args...), nil)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, stderr, c.want)
		}
	}
}
