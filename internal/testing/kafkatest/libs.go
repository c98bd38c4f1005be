package kafkatest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

var libsCache sync.Map // requested version -> libsResult

type libsResult struct {
	dir, version string
	err          error
}

// RequestedVersion returns v, else env OFFSETLAG_TEST_KAFKA_VERSION, else DefaultVersion.
func RequestedVersion(v string) string {
	if v != "" {
		return v
	}
	if e := os.Getenv(EnvVersion); e != "" {
		return e
	}
	return DefaultVersion
}

// ResolveLibs returns the jar directory and exact Kafka version for version ("4.1", "3.9",
// "x.y.z" or "" for the default). OFFSETLAG_TEST_KAFKA_LIBS wins when its version matches (or when
// no version was asked for at all); otherwise scripts/kafka-jars.sh downloads (or finds) the jars.
func ResolveLibs(version string) (dir, exact string, err error) {
	explicit := version != "" || os.Getenv(EnvVersion) != ""
	version = RequestedVersion(version)
	if d := os.Getenv(EnvLibs); d != "" {
		v, err := jarVersion(d)
		if err != nil {
			return "", "", envError{fmt.Errorf("%s=%s: %w", EnvLibs, d, err)}
		}
		if !explicit || versionMatches(version, v) {
			return d, v, nil
		}
	}
	if r, ok := libsCache.Load(version); ok {
		r := r.(libsResult)
		return r.dir, r.version, r.err
	}
	r := libsResult{}
	r.dir, r.err = runJarScript(version)
	if r.err == nil {
		r.version, r.err = jarVersion(r.dir)
	}
	libsCache.Store(version, r)
	return r.dir, r.version, r.err
}

func versionMatches(want, have string) bool {
	want = strings.TrimSuffix(want, ".x")
	return have == want || strings.HasPrefix(have, want+".")
}

// jarVersion reads the version from kafka_2.13-<version>.jar in dir.
func jarVersion(dir string) (string, error) {
	m, _ := filepath.Glob(filepath.Join(dir, "kafka_2.13-*.jar"))
	for _, f := range m {
		v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "kafka_2.13-"), ".jar")
		if v != "" && !strings.ContainsAny(v, "-") { // skip -sources, -test
			return v, nil
		}
	}
	return "", fmt.Errorf("no kafka_2.13-<version>.jar in %s", dir)
}

func runJarScript(version string) (string, error) {
	script, err := testenv.Script("kafka-jars.sh")
	if err != nil {
		return "", envError{err}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, version)
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	if err := cmd.Run(); err != nil {
		return "", envError{fmt.Errorf("%s %s: %v: %s", script, version, err, strings.TrimSpace(errOut.String()))}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", envError{fmt.Errorf("%s printed %q, not a directory", script, dir)}
	}
	return dir, nil
}
