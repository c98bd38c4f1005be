package kafkasec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FranzOpts: the same validation and files as Apply, one option per setting.
func TestFranzOpts(t *testing.T) {
	if o, err := (Config{}).FranzOpts(); err != nil || len(o) != 0 {
		t.Fatalf("zero config: %d options, %v", len(o), err)
	}
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    Config
		n    int
		err  string
	}{
		{"tls", Config{TLS: TLSConfig{Enable: true}}, 1, ""},
		{"plain over tls", Config{TLS: TLSConfig{Enable: true}, SASL: SASLConfig{Mechanism: MechanismPlain, Username: "u", Password: "p"}}, 2, ""},
		{"scram-256 file", Config{SASL: SASLConfig{Mechanism: MechanismSCRAMSHA256, Username: "u", PasswordFile: pw}}, 1, ""},
		{"scram-512", Config{SASL: SASLConfig{Mechanism: MechanismSCRAMSHA512, Username: "u", Password: "p"}}, 1, ""},
		{"missing password file", Config{SASL: SASLConfig{Mechanism: MechanismSCRAMSHA512, Username: "u", PasswordFile: filepath.Join(dir, "none")}}, 0, "sasl password file"},
		{"missing CA", Config{TLS: TLSConfig{Enable: true, CAFile: filepath.Join(dir, "none")}}, 0, "tls ca file"},
		{"invalid", Config{SASL: SASLConfig{Mechanism: "NOPE"}}, 0, "sasl.mechanism"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.c.FranzOpts()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(o) != tc.n {
				t.Fatalf("%d options, %v; want %d", len(o), err, tc.n)
			}
		})
	}
}
