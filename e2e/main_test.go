package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/offsetlag/offsetlag/internal/kafkatest"
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
// OFFSETLAG_KAFKA_VERSION alone when it is set, else 4.1 and 3.9, so that a
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
	for _, v := range suiteVersions() {
		t.Run("kafka-"+v, func(t *testing.T) {
			t.Parallel()
			b := kafkatest.Shared(t, kafkatest.Options{Version: v})
			f(t, b)
		})
	}
}

// is4x reports whether b runs Kafka 4 or later (KIP-848 generally available).
func is4x(b *kafkatest.Broker) bool {
	return !strings.HasPrefix(b.Version, "3.") && !strings.HasPrefix(b.Version, "2.")
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
		root, err := kafkatest.RepoRoot()
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
