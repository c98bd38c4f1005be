package kafkasec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/testing/testpki"
)

func TestValidate(t *testing.T) {
	scram := SASLConfig{Mechanism: MechanismSCRAMSHA512, Username: "u", Password: "p"}
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{"zero", Config{}, ""},
		{"tls system roots", Config{TLS: TLSConfig{Enable: true}}, ""},
		{"mtls", Config{TLS: TLSConfig{Enable: true, CertFile: "c", KeyFile: "k"}}, ""},
		{"cert without key", Config{TLS: TLSConfig{Enable: true, CertFile: "c"}}, "kafka.tls.cert-file and kafka.tls.key-file go together"},
		{"ca without enable", Config{TLS: TLSConfig{CAFile: "ca.pem"}}, "kafka.tls.enable is false"},
		{"scram", Config{SASL: scram}, ""},
		{"scram password file", Config{SASL: SASLConfig{Mechanism: MechanismSCRAMSHA256, Username: "u", PasswordFile: "f"}}, ""},
		{"plain", Config{SASL: SASLConfig{Mechanism: MechanismPlain, Username: "u", Password: "p"}}, ""},
		{"no user", Config{SASL: SASLConfig{Mechanism: MechanismPlain, Password: "p"}}, "needs kafka.sasl.username"},
		{"no password", Config{SASL: SASLConfig{Mechanism: MechanismSCRAMSHA512, Username: "u"}}, "needs kafka.sasl.password"},
		{"both passwords", Config{SASL: SASLConfig{Mechanism: MechanismSCRAMSHA512, Username: "u", Password: "p", PasswordFile: "f"}}, "set one"},
		{"region with scram", Config{SASL: SASLConfig{Mechanism: MechanismSCRAMSHA512, Username: "u", Password: "p", AWSRegion: "eu-west-1"}}, "AWS_MSK_IAM only"},
		{"iam", Config{SASL: SASLConfig{Mechanism: MechanismAWSMSKIAM, AWSRegion: "eu-west-1", AWSRoleARN: "arn:aws:iam::123456789012:role/lag"}}, ""},
		{"iam with password", Config{SASL: SASLConfig{Mechanism: MechanismAWSMSKIAM, Password: "p"}}, "default chain"},
		{"iam bad role", Config{SASL: SASLConfig{Mechanism: MechanismAWSMSKIAM, AWSRoleARN: "lag"}}, "want arn:aws:iam"},
		{"unknown mechanism", Config{SASL: SASLConfig{Mechanism: "GSSAPI"}}, `sasl.mechanism "GSSAPI": want PLAIN`},
		{"lower case mechanism", Config{SASL: SASLConfig{Mechanism: "scram-sha-512"}}, "want PLAIN"},
		{"user without mechanism", Config{SASL: SASLConfig{Username: "u"}}, "kafka.sasl.mechanism is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate("kafka.")
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSecretsNeverPrint formats a configuration every way a log or a dump
// could: the password never appears.
func TestSecretsNeverPrint(t *testing.T) {
	const pw = "hunter2-very-secret"
	c := Config{TLS: TLSConfig{Enable: true, CAFile: "/etc/ca.pem"},
		SASL: SASLConfig{Mechanism: MechanismSCRAMSHA512, Username: "admin", Password: pw}}
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("cfg", "security", c, "sasl", c.SASL, "password", c.SASL.Password)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "security", c, "password", c.SASL.Password)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"%s": fmt.Sprintf("%s %q", c.SASL.Password, c.SASL.Password), "%v nested": fmt.Sprintf("%+v", struct{ C Config }{c}),
		"slog": logged.String(), "json": string(js), "String": c.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, pw) {
			t.Errorf("%s prints the password: %s", how, out)
		}
	}
	if want := "tls(ca=/etc/ca.pem) sasl=SCRAM-SHA-512(user=admin, password=<redacted>)"; c.String() != want {
		t.Errorf("String() = %q, want %q", c.String(), want)
	}
	if got := (Config{}).String(); got != "plaintext" {
		t.Errorf("zero String() = %q", got)
	}
}

func TestApply(t *testing.T) {
	pki, err := testpki.Generate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("zero changes nothing", func(t *testing.T) {
		sc := sarama.NewConfig()
		if err := (Config{}).Apply(sc); err != nil {
			t.Fatal(err)
		}
		if sc.Net.TLS.Enable || sc.Net.SASL.Enable {
			t.Fatal("TLS or SASL enabled by the zero Config")
		}
	})
	t.Run("tls", func(t *testing.T) {
		sc := sarama.NewConfig()
		c := Config{TLS: TLSConfig{Enable: true, CAFile: pki.CAFile, CertFile: pki.ClientCert, KeyFile: pki.ClientKey, ServerName: "kafka-1"}}
		if err := c.Apply(sc); err != nil {
			t.Fatal(err)
		}
		tc := sc.Net.TLS.Config
		if !sc.Net.TLS.Enable || tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.ServerName != "kafka-1" || tc.InsecureSkipVerify {
			t.Fatalf("tls config %+v", tc)
		}
		if err := sc.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("scram from file", func(t *testing.T) {
		sc := sarama.NewConfig()
		c := Config{SASL: SASLConfig{Mechanism: MechanismSCRAMSHA256, Username: "u", PasswordFile: pwFile}}
		if err := c.Apply(sc); err != nil {
			t.Fatal(err)
		}
		if !sc.Net.SASL.Enable || sc.Net.SASL.Mechanism != sarama.SASLTypeSCRAMSHA256 || sc.Net.SASL.Password != "from-file" ||
			sc.Net.SASL.SCRAMClientGeneratorFunc == nil || sc.Net.TLS.Enable {
			t.Fatalf("sasl config %+v", sc.Net.SASL)
		}
		if err := sc.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("iam", func(t *testing.T) {
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
		sc := sarama.NewConfig()
		c := Config{SASL: SASLConfig{Mechanism: MechanismAWSMSKIAM, AWSRegion: "eu-west-1"}}
		if err := c.Apply(sc); err != nil {
			t.Fatal(err)
		}
		if !sc.Net.TLS.Enable || sc.Net.SASL.Mechanism != sarama.SASLTypeOAuth || sc.Net.SASL.TokenProvider == nil {
			t.Fatalf("AWS_MSK_IAM: tls %v mechanism %q", sc.Net.TLS.Enable, sc.Net.SASL.Mechanism)
		}
		tok, err := sc.Net.SASL.TokenProvider.Token()
		if err != nil {
			t.Fatal(err)
		}
		checkToken(t, tok.Token, "AKIDEXAMPLE", "eu-west-1")
		if err := sc.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("iam needs a region", func(t *testing.T) {
		isolateAWS(t)
		err := Config{SASL: SASLConfig{Mechanism: MechanismAWSMSKIAM}}.Apply(sarama.NewConfig())
		if err == nil || !strings.Contains(err.Error(), "needs a region") {
			t.Fatalf("Apply = %v", err)
		}
	})
	errs := []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing ca", Config{TLS: TLSConfig{Enable: true, CAFile: "/nonexistent/ca.pem"}}, "tls ca file: open /nonexistent/ca.pem"},
		{"ca not pem", Config{TLS: TLSConfig{Enable: true, CAFile: pwFile}}, "no PEM certificate"},
		{"key does not match", Config{TLS: TLSConfig{Enable: true, CertFile: pki.ClientCert, KeyFile: pki.KeyFile}}, "private key does not match"},
		{"missing password file", Config{SASL: SASLConfig{Mechanism: MechanismPlain, Username: "u", PasswordFile: "/nonexistent/pw"}}, "sasl password file: open /nonexistent/pw"},
		{"invalid", Config{SASL: SASLConfig{Mechanism: "OAUTHBEARER"}}, "want PLAIN"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Apply(sarama.NewConfig())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Apply = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	if w := (Config{TLS: TLSConfig{Enable: true, InsecureSkipVerify: true}}).Warnings(); len(w) != 1 || !strings.Contains(w[0], "verification is disabled") {
		t.Errorf("skip verify warnings %q", w)
	}
	if w := (Config{SASL: SASLConfig{Mechanism: MechanismPlain, Username: "u", Password: "p"}}).Warnings(); len(w) != 1 || !strings.Contains(w[0], "clear text") {
		t.Errorf("PLAIN without TLS warnings %q", w)
	}
	if w := (Config{TLS: TLSConfig{Enable: true}, SASL: SASLConfig{Mechanism: MechanismPlain, Username: "u", Password: "p"}}).Warnings(); len(w) != 0 {
		t.Errorf("PLAIN over TLS warnings %q", w)
	}
}

// isolateAWS keeps the developer's ~/.aws and AWS_* variables out.
func isolateAWS(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
