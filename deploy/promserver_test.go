package deploy_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// This file holds the exporter side of the real-Prometheus tests
// (prometheus_test.go, compat_test.go): the exporter binary built once and
// started on a free port. The Prometheus side is internal/testing/promtest.

var (
	exporterOnce sync.Once
	exporterPath string
	exporterErr  error
	exporterDir  string
)

// TestMain removes the directory of the exporter binary built once for
// all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if exporterDir != "" {
		_ = os.RemoveAll(exporterDir)
	}
	os.Exit(code)
}

// exporterBinary builds cmd/offsetlag-exporter once per test process.
func exporterBinary(t *testing.T) string {
	t.Helper()
	exporterOnce.Do(func() {
		exporterDir, exporterErr = os.MkdirTemp("", "offsetlag-deploy-test-")
		if exporterErr != nil {
			return
		}
		exporterPath = filepath.Join(exporterDir, "offsetlag-exporter")
		if b, err := exec.Command("go", "build", "-o", exporterPath, "../cmd/offsetlag-exporter").CombinedOutput(); err != nil {
			exporterErr = fmt.Errorf("go build: %v\n%s", err, b)
		}
	})
	if exporterErr != nil {
		t.Fatal(exporterErr)
	}
	return exporterPath
}

// exporterProc is an offsetlag-exporter process.
type exporterProc struct {
	addr string
	cmd  *exec.Cmd
	logs *testenv.LockedBuffer
	once sync.Once
}

// startExporter runs the exporter binary against brokers on a free port
// and waits until /metrics answers. OFFSETLAG_* variables of the test's
// environment are not passed on.
func startExporter(t *testing.T, brokers []string, args ...string) *exporterProc {
	t.Helper()
	bin := exporterBinary(t)
	p := &exporterProc{addr: testenv.FreeAddr(t), logs: &testenv.LockedBuffer{}}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OFFSETLAG_") {
			env = append(env, kv)
		}
	}
	all := append([]string{"--kafka.brokers", strings.Join(brokers, ","), "--web.listen-address", p.addr}, args...)
	p.cmd = exec.Command(bin, all...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter not serving /metrics within 30 s: %v\n%s", err, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *exporterProc) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
}

// metricLines returns the /metrics lines starting with one of prefixes
// (for failure messages).
func (p *exporterProc) metricLines(prefixes ...string) string {
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, pre := range prefixes {
			if strings.HasPrefix(l, pre) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
