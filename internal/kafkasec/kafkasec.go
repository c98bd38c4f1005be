package kafkasec

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/IBM/sarama"
)

// Mechanism is a SASL mechanism.
type Mechanism string

// SASL mechanisms. The empty Mechanism disables SASL.
const (
	MechanismNone        Mechanism = ""
	MechanismPlain       Mechanism = "PLAIN"
	MechanismSCRAMSHA256 Mechanism = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 Mechanism = "SCRAM-SHA-512"
	// MechanismAWSMSKIAM is Amazon MSK's IAM access control: SASL
	// OAUTHBEARER whose token is a SigV4-presigned kafka-cluster:Connect
	// URL. It always runs over TLS (MSK port 9098).
	MechanismAWSMSKIAM Mechanism = "AWS_MSK_IAM"
)

// Mechanisms lists the accepted mechanism names, for help texts.
const Mechanisms = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM"

// Secret is a string that never prints: fmt, slog and encoding/json see
// "<redacted>" (or "" when it is empty). Convert with string(s) to use it.
type Secret string

const redacted = "<redacted>"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("kafkasec.Secret(%q)", s.String()) }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps encoding/json from printing the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText keeps YAML and text encoders from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// TLSConfig is TLS to the brokers.
type TLSConfig struct {
	// Enable turns TLS on. Setting CAFile, CertFile or ServerName alone
	// does not: a listener is either TLS or not.
	Enable bool `mapstructure:"enable" help:"connect to the brokers with TLS"`
	// CAFile is a PEM file of the CAs that sign the brokers' certificates;
	// empty uses the system roots (enough for Amazon MSK).
	CAFile string `mapstructure:"ca-file" help:"PEM file of the CAs that sign the brokers' certificates (default: the system roots, enough for Amazon MSK)"`
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// brokers that require mutual TLS (ssl.client.auth=required).
	CertFile string `mapstructure:"cert-file" help:"PEM client certificate, for brokers that require mutual TLS (with {flag:key-file})"`
	KeyFile  string `mapstructure:"key-file" help:"PEM key of the client certificate"`
	// ServerName is the name checked against the brokers' certificates;
	// empty uses each broker's host name.
	ServerName string `mapstructure:"server-name" help:"name to verify the brokers' certificates against (default: each broker's host name)"`
	// InsecureSkipVerify accepts any broker certificate. For tests only:
	// it allows a man in the middle, and a warning is logged.
	InsecureSkipVerify bool `mapstructure:"insecure-skip-verify" help:"accept any broker certificate (tests only: allows a man in the middle; logged as a warning)"`
}

// SASLConfig is SASL authentication.
type SASLConfig struct {
	// Mechanism is PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM;
	// empty disables SASL.
	Mechanism Mechanism `mapstructure:"mechanism" help:"SASL mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM (empty: no SASL)"`
	// Username and Password are the PLAIN and SCRAM credentials.
	Username string `mapstructure:"username" help:"SASL user name (PLAIN, SCRAM)"`
	Password Secret `mapstructure:"password" help:"SASL password (PLAIN, SCRAM); prefer the environment variable {env} or {flag:password-file}, since flags show in ps. Never logged"`
	// PasswordFile holds the password instead (a mounted secret); one
	// trailing newline is dropped. Read when Apply runs.
	PasswordFile string `mapstructure:"password-file" help:"file holding the SASL password (a mounted secret; one trailing newline is dropped)"`
	// AWSRegion is the MSK cluster's region (AWS_MSK_IAM); empty uses the
	// AWS default chain (AWS_REGION, the shared config).
	AWSRegion string `mapstructure:"aws-region" help:"AWS_MSK_IAM: the MSK cluster's region (default: AWS_REGION or the shared config)"`
	// AWSRoleARN, when set, is assumed with STS (credentials from the
	// default chain) and its credentials sign the tokens (AWS_MSK_IAM).
	AWSRoleARN string `mapstructure:"aws-role-arn" help:"AWS_MSK_IAM: IAM role to assume with STS; its credentials sign the tokens (default: the AWS default credential chain's own identity)"`
}

// Config is the security of one cluster's connections.
type Config struct {
	TLS  TLSConfig  `mapstructure:"tls"`
	SASL SASLConfig `mapstructure:"sasl"`
}

// IsZero reports whether nothing is configured (plaintext, no SASL).
func (c Config) IsZero() bool { return c == Config{} }

// tlsEnabled reports whether connections use TLS: asked for, or implied
// by AWS_MSK_IAM.
func (c Config) tlsEnabled() bool {
	return c.TLS.Enable || c.SASL.Mechanism == MechanismAWSMSKIAM
}

// String summarises the settings without secrets, for logs: for example
// "tls(ca=/etc/ca.pem) sasl=SCRAM-SHA-512(user=admin, password=<redacted>)".
func (c Config) String() string {
	var parts []string
	if c.tlsEnabled() {
		var t []string
		if c.TLS.CAFile != "" {
			t = append(t, "ca="+c.TLS.CAFile)
		}
		if c.TLS.CertFile != "" {
			t = append(t, "cert="+c.TLS.CertFile)
		}
		if c.TLS.ServerName != "" {
			t = append(t, "server_name="+c.TLS.ServerName)
		}
		if c.TLS.InsecureSkipVerify {
			t = append(t, "insecure-skip-verify")
		}
		parts = append(parts, "tls("+strings.Join(t, ", ")+")")
	} else {
		parts = append(parts, "plaintext")
	}
	if c.SASL.Mechanism != MechanismNone {
		parts = append(parts, "sasl="+string(c.SASL.Mechanism)+"("+c.SASL.String()+")")
	}
	return strings.Join(parts, " ")
}

// String lists the SASL settings with the password masked.
func (s SASLConfig) String() string {
	var p []string
	if s.Username != "" {
		p = append(p, "user="+s.Username)
	}
	if s.Password != "" {
		p = append(p, "password="+redacted)
	}
	if s.PasswordFile != "" {
		p = append(p, "password_file="+s.PasswordFile)
	}
	if s.AWSRegion != "" {
		p = append(p, "region="+s.AWSRegion)
	}
	if s.AWSRoleARN != "" {
		p = append(p, "role="+s.AWSRoleARN)
	}
	return strings.Join(p, ", ")
}

// LogValue logs Config as its String.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Warnings are the settings worth a warning in the log (skip-verify).
func (c Config) Warnings() []string {
	var w []string
	if c.tlsEnabled() && c.TLS.InsecureSkipVerify {
		w = append(w, "TLS certificate verification is disabled (insecure-skip-verify): anyone on the path can impersonate the brokers")
	}
	if c.SASL.Mechanism == MechanismPlain && !c.tlsEnabled() {
		w = append(w, "SASL PLAIN without TLS sends the password in clear text")
	}
	return w
}

// Validate checks the settings without reading files. prefix names the
// options in messages ("kafka." gives "kafka.sasl.username ...").
func (c Config) Validate(prefix string) error {
	t, s := c.TLS, c.SASL
	if (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("%stls.cert-file and %stls.key-file go together", prefix, prefix)
	}
	if !c.tlsEnabled() && (t.CAFile != "" || t.CertFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		return fmt.Errorf("%stls.* options are set but %stls.enable is false", prefix, prefix)
	}
	switch s.Mechanism {
	case MechanismNone:
		if s != (SASLConfig{}) {
			return fmt.Errorf("%ssasl.* options are set but %ssasl.mechanism is empty (want %s)", prefix, prefix, Mechanisms)
		}
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		if s.Username == "" {
			return fmt.Errorf("%ssasl.mechanism %s needs %ssasl.username", prefix, s.Mechanism, prefix)
		}
		if s.Password == "" && s.PasswordFile == "" {
			return fmt.Errorf("%ssasl.mechanism %s needs %ssasl.password (better from the environment) or %ssasl.password-file", prefix, s.Mechanism, prefix, prefix)
		}
		if s.Password != "" && s.PasswordFile != "" {
			return fmt.Errorf("%ssasl.password and %ssasl.password-file: set one", prefix, prefix)
		}
		if s.AWSRegion != "" || s.AWSRoleARN != "" {
			return fmt.Errorf("%ssasl.aws-* options apply to AWS_MSK_IAM only, not %s", prefix, s.Mechanism)
		}
	case MechanismAWSMSKIAM:
		if s.Username != "" || s.Password != "" || s.PasswordFile != "" {
			return fmt.Errorf("%ssasl.mechanism AWS_MSK_IAM takes AWS credentials from the default chain, not %ssasl.username/password", prefix, prefix)
		}
		if s.AWSRoleARN != "" && !strings.HasPrefix(s.AWSRoleARN, "arn:") {
			return fmt.Errorf("%ssasl.aws-role-arn %q: want arn:aws:iam::ACCOUNT:role/NAME", prefix, s.AWSRoleARN)
		}
	default:
		return fmt.Errorf("%ssasl.mechanism %q: want %s", prefix, s.Mechanism, Mechanisms)
	}
	return nil
}

// Apply validates c, reads the files it names and sets TLS and SASL on sc.
// It connects nowhere. With the zero Config it changes nothing.
func (c Config) Apply(sc *sarama.Config) error {
	if err := c.Validate(""); err != nil {
		return err
	}
	if c.tlsEnabled() {
		tc, err := c.TLS.build()
		if err != nil {
			return err
		}
		sc.Net.TLS.Enable = true
		sc.Net.TLS.Config = tc
	}
	s := c.SASL
	if s.Mechanism == MechanismNone {
		return nil
	}
	sc.Net.SASL.Enable = true
	sc.Net.SASL.Handshake = true
	sc.Net.SASL.Version = sarama.SASLHandshakeV1
	switch s.Mechanism {
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		pw, err := s.password()
		if err != nil {
			return err
		}
		sc.Net.SASL.User = s.Username
		sc.Net.SASL.Password = pw
		sc.Net.SASL.Mechanism = sarama.SASLMechanism(s.Mechanism)
		if s.Mechanism != MechanismPlain {
			sc.Net.SASL.SCRAMClientGeneratorFunc = scramGenerator(s.Mechanism)
		}
	case MechanismAWSMSKIAM:
		tp, err := newMSKTokenProvider(s.AWSRegion, s.AWSRoleARN)
		if err != nil {
			return err
		}
		sc.Net.SASL.Mechanism = sarama.SASLTypeOAuth
		sc.Net.SASL.TokenProvider = tp
	}
	return nil
}

// password returns the password, read from PasswordFile when set.
func (s SASLConfig) password() (string, error) {
	if s.PasswordFile == "" {
		return string(s.Password), nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		// The error names the file, never its content.
		return "", fmt.Errorf("sasl password file: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", fmt.Errorf("sasl password file %s is empty", s.PasswordFile)
	}
	return pw, nil
}

// build returns the tls.Config of t (TLS 1.2 at least).
func (t TLSConfig) build() (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // explicit option, logged as a warning
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca file %s: no PEM certificate in it", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate %s / key %s: %w", t.CertFile, t.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
