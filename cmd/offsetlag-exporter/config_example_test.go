package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/internal/appconfig"
)

// configs/exporter.yaml runs as shipped: the exporter starts with it (only
// the listen address is moved to a free port), serves /healthz and
// /metrics, and exits 0 on SIGINT. Its brokers (127.0.0.1:9092) need not
// answer: the server runs whether or not Kafka does.
func TestShippedConfigRuns(t *testing.T) {
	c := startChild(t, "--config", "../../configs/exporter.yaml")
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "offsetlag_build_info") {
		t.Fatalf("/metrics: %d\n%.500s", resp.StatusCode, body)
	}
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if code := c.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("exit code %d after SIGINT (%v); stderr:\n%s", code, err, c.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30 s after SIGINT; stderr:\n%s", c.stderr.String())
	}
}

// The config example and README state the exit codes in the same words,
// and a configuration error really exits 2.
func TestExitCodesDocumented(t *testing.T) {
	exitLine := regexp.MustCompile(`Exit codes: 0 [^\n]*configuration\.`)
	cfg, err := os.ReadFile("../../configs/exporter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	inCfg := exitLine.FindString(string(cfg))
	if inCfg == "" {
		t.Fatal("configs/exporter.yaml states no \"Exit codes: 0 ... configuration.\" line")
	}
	inCfg = strings.TrimSpace(inCfg)
	flat := strings.Join(strings.Fields(string(readme)), " ")
	if !strings.Contains(flat, inCfg) {
		t.Errorf("README.md does not state the config example's exit codes: %q", inCfg)
	}
	code, stderr := runMain(t, []string{"--config", "../../configs/exporter.yaml", "--poll.interval", "1"}, nil)
	if code != 2 {
		t.Errorf("bad configuration: exit %d, want 2; stderr: %s", code, stderr)
	}
}

// Every flag of the exporter has a row in the README's flag table.
func TestREADMEListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fs := appconfig.Flags(name)
	fs.Bool("version", false, "")
	fs.VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(string(readme), "| `--"+f.Name+"`") && !strings.Contains(string(readme), ", `--"+f.Name+"`") {
			t.Errorf("README.md flag table has no `--%s`", f.Name)
		}
	})
}
