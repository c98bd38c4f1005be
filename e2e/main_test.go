package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// TestMain shares one broker per Kafka version between the tests of the
// package and stops them (and any exporter still running) at the end.
func TestMain(m *testing.M) {
	code := kafkatest.Main(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// suiteVersions are the Kafka lines the suite runs against: the one named by
// OFFSETLAG_TEST_KAFKA_VERSION alone when it is set, else 4.1 and 3.9, so that a
// plain `go test ./...` (and so CI) covers both.
func suiteVersions() []string {
	if v := os.Getenv(kafkatest.EnvVersion); v != "" {
		return []string{v}
	}
	return []string{"4.1", "3.9"}
}

// forEachVersion runs f as a subtest per Kafka version, on that version's
// shared broker. The subtests run in parallel: the brokers start side by side.
func forEachVersion(t *testing.T, f func(t *testing.T, b *kafkatest.Broker)) {
	t.Helper()
	forVersions(t, suiteVersions(), f)
}

// forEach4x is forEachVersion for the 4.x versions only (KIP-848 is
// generally available from 4.0; 3.9 has it as early access only).
func forEach4x(t *testing.T, f func(t *testing.T, b *kafkatest.Broker)) {
	t.Helper()
	var vs []string
	for _, v := range suiteVersions() {
		if !strings.HasPrefix(v, "3.") && !strings.HasPrefix(v, "2.") {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		t.Logf("no Kafka 4.x among %v: nothing to run", suiteVersions())
	}
	forVersions(t, vs, f)
}

func forVersions(t *testing.T, versions []string, f func(t *testing.T, b *kafkatest.Broker)) {
	t.Helper()
	for _, v := range versions {
		t.Run("kafka-"+v, func(t *testing.T) {
			t.Parallel()
			b := kafkatest.Shared(t, kafkatest.Options{Version: v})
			f(t, b)
		})
	}
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// exporterBinary builds ./cmd/offsetlag-exporter once per test binary.
func exporterBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		root, err := testenv.RepoRoot()
		if err != nil {
			binErr = err
			return
		}
		binDir, err = os.MkdirTemp("", "offsetlag-e2e-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(binDir, "offsetlag-exporter")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/offsetlag-exporter")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/offsetlag-exporter: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

var runs atomic.Int64

// uniq returns prefix plus a number unique in this test binary, and a dash:
// the shared brokers outlive a test (go test -count=2 runs it again on the
// same broker), so topic and group names must not repeat.
func uniq(prefix string) string {
	return fmt.Sprintf("%s%d-", prefix, runs.Add(1))
}
