package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/internal/testing/testpki"
)

// TestWebConfigTLSAndBasicAuth serves the exporter with an exporter-toolkit
// web config (--web.config-file: TLS and a bcrypt basic-auth user) and
// sends real HTTPS requests: right credentials 200, wrong or none 401,
// plain HTTP to the TLS port and an untrusted certificate fail.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	pki, err := testpki.Generate(dir, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web-config.yml")
	yml := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n",
		pki.CertFile, pki.KeyFile, hash)
	if err := os.WriteFile(webConfig, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePorts(t, 1)[0]
	// No Kafka behind 127.0.0.1:1: polls fail, the endpoint serves anyway.
	m := startRun(t, "--kafka.brokers", "127.0.0.1:1", "--poll.interval", "1s", "--kafka.dial-timeout", "200ms",
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", port), "--web.config-file", webConfig)
	defer func() {
		if code := m.stop(t, 15*time.Second); code != 0 {
			t.Errorf("exit code %d", code)
		}
		if t.Failed() {
			t.Logf("exporter log:\n%s", m.logs.String())
		}
	}()

	// No fixed client timeout: a request ends with its answer, a hang with
	// the test's deadline. The answers cost very different CPU: an unknown
	// user costs one bcrypt comparison at cost 10 (exporter-toolkit's fixed
	// hash, against user enumeration by timing), 64 times the cost-4 hash
	// of the known user and about 1 s under -race on a busy 2-core machine,
	// where a 5 s client timeout was once exceeded.
	reqCtx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancelReqs context.CancelFunc
		reqCtx, cancelReqs = context.WithDeadline(reqCtx, d.Add(-10*time.Second))
		defer cancelReqs()
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pki.CAPEM)
	trusted := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	get := func(c *http.Client, url, user, pass string) (int, string, error) {
		req, _ := http.NewRequestWithContext(reqCtx, http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body, err := get(trusted, url+"/metrics", "prometheus", "scrape-secret")
		if err == nil && code == 200 && strings.Contains(body, "offsetlag_up") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 200 with offsetlag_up over HTTPS: %d %v %.200s", code, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, tt := range []struct {
		name, path, user, pass string
		want                   int
	}{
		{"right credentials, metrics", "/metrics", "prometheus", "scrape-secret", 200},
		{"right credentials, health", "/healthz", "prometheus", "scrape-secret", 200},
		{"wrong password", "/metrics", "prometheus", "nope", 401},
		{"unknown user", "/metrics", "grafana", "scrape-secret", 401},
		{"no credentials", "/metrics", "", "", 401},
		{"no credentials, health", "/healthz", "", "", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, _, err := get(trusted, url+tt.path, tt.user, tt.pass)
			if err != nil || code != tt.want {
				t.Fatalf("GET %s = %d, %v; want %d", tt.path, code, err, tt.want)
			}
			t.Logf("answered in %s", time.Since(start).Round(time.Millisecond))
		})
	}
	t.Run("plain HTTP to the TLS port", func(t *testing.T) {
		code, body, err := get(&http.Client{}, strings.Replace(url, "https", "http", 1)+"/metrics", "prometheus", "scrape-secret")
		// Go's TLS server answers a plain request with 400 and a hint.
		if err == nil && (code != 400 || !strings.Contains(body, "HTTP request to an HTTPS server")) {
			t.Fatalf("plain HTTP got %d: %.200s", code, body)
		}
		t.Logf("plain HTTP: status %d, err %v, body %.80q", code, err, body)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		_, _, err := get(&http.Client{}, url+"/metrics", "prometheus", "scrape-secret")
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("system roots accepted the test CA: %v", err)
		}
	})
	if strings.Contains(m.logs.String(), "scrape-secret") {
		t.Error("the log shows the basic-auth password")
	}
}
