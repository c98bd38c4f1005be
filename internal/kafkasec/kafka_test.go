package kafkasec_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/kafkasec"
	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
)

func TestMain(m *testing.M) { os.Exit(kafkatest.Main(m)) }

// secureOptions is the broker every security test shares: a SASL_PLAINTEXT
// listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and a mutual-TLS listener.
var secureOptions = kafkatest.Options{
	SASLUsers: map[string]string{"admin": "admin-secret", "reader": "reader-secret"},
	TLS:       &kafkatest.TLSOptions{ClientAuth: "required"},
}

// TestRealBroker connects with each mechanism to a real Kafka broker and
// checks that wrong credentials and wrong certificates fail with a clear
// error.
func TestRealBroker(t *testing.T) {
	b := kafkatest.Shared(t, secureOptions)
	pw := t.TempDir() + "/password"
	if err := os.WriteFile(pw, []byte("reader-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mtls := kafkasec.TLSConfig{Enable: true, CAFile: b.PKI.CAFile, CertFile: b.PKI.ClientCert, KeyFile: b.PKI.ClientKey}
	tests := []struct {
		name    string
		addr    string
		cfg     kafkasec.Config
		wantErr string // "" = the client connects and reads metadata; "any" = some error
	}{
		{"SCRAM-SHA-512", b.SASLAddr, kafkasec.Config{SASL: kafkasec.SASLConfig{
			Mechanism: kafkasec.MechanismSCRAMSHA512, Username: "admin", Password: "admin-secret"}}, ""},
		{"SCRAM-SHA-256 password file", b.SASLAddr, kafkasec.Config{SASL: kafkasec.SASLConfig{
			Mechanism: kafkasec.MechanismSCRAMSHA256, Username: "reader", PasswordFile: pw}}, ""},
		{"PLAIN", b.SASLAddr, kafkasec.Config{SASL: kafkasec.SASLConfig{
			Mechanism: kafkasec.MechanismPlain, Username: "admin", Password: "admin-secret"}}, ""},
		{"SCRAM wrong password", b.SASLAddr, kafkasec.Config{SASL: kafkasec.SASLConfig{
			Mechanism: kafkasec.MechanismSCRAMSHA512, Username: "admin", Password: "wrong"}}, "SASL Authentication failed"},
		{"SCRAM unknown user", b.SASLAddr, kafkasec.Config{SASL: kafkasec.SASLConfig{
			Mechanism: kafkasec.MechanismSCRAMSHA512, Username: "nobody", Password: "x"}}, "SASL Authentication failed"},
		{"mutual TLS", b.TLSAddr, kafkasec.Config{TLS: mtls}, ""},
		{"TLS server name", b.TLSAddr, kafkasec.Config{TLS: func() kafkasec.TLSConfig {
			c := mtls
			c.ServerName = "localhost"
			return c
		}()}, ""},
		{"TLS wrong server name", b.TLSAddr, kafkasec.Config{TLS: func() kafkasec.TLSConfig {
			c := mtls
			c.ServerName = "kafka.example.com"
			return c
		}()}, "certificate is valid for"},
		{"TLS unknown CA", b.TLSAddr, kafkasec.Config{TLS: func() kafkasec.TLSConfig {
			c := mtls
			c.CAFile = b.PKI.OtherCAFile
			return c
		}()}, "certificate signed by unknown authority"},
		{"TLS skip verify", b.TLSAddr, kafkasec.Config{TLS: func() kafkasec.TLSConfig {
			c := mtls
			c.CAFile, c.InsecureSkipVerify = b.PKI.OtherCAFile, true
			return c
		}()}, ""},
		// ssl.client.auth=required: the broker rejects the handshake.
		{"TLS without client certificate", b.TLSAddr, kafkasec.Config{TLS: kafkasec.TLSConfig{Enable: true, CAFile: b.PKI.CAFile}}, "bad certificate"},
		// A Kafka request on a TLS port gets no answer the client accepts.
		{"plaintext to the TLS listener", b.TLSAddr, kafkasec.Config{}, "any"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := sarama.NewConfig()
			sc.Version = sarama.V3_7_0_0
			sc.Net.DialTimeout = 5 * time.Second
			sc.Net.ReadTimeout = 5 * time.Second
			sc.Metadata.Retry.Max = 0
			if err := tt.cfg.Apply(sc); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			client, err := sarama.NewClient([]string{tt.addr}, sc)
			if err == nil {
				defer client.Close()
				_, err = client.Topics()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("connect: %v", err)
			case tt.wantErr == "":
				return
			case err == nil:
				t.Fatalf("connected, want an error with %q", tt.wantErr)
			case tt.wantErr != "any" && !strings.Contains(brokerErr(t, tt.addr, sc, err), tt.wantErr):
				t.Fatalf("error %q does not say %q", brokerErr(t, tt.addr, sc, err), tt.wantErr)
			}
		})
	}
}

// brokerErr opens one broker connection for the underlying error: the
// client only says "client has run out of available brokers".
func brokerErr(t *testing.T, addr string, sc *sarama.Config, clientErr error) string {
	br := sarama.NewBroker(addr)
	if err := br.Open(sc); err != nil {
		return err.Error()
	}
	defer br.Close()
	if _, err := br.Connected(); err != nil {
		return err.Error()
	}
	_, err := br.GetMetadata(&sarama.MetadataRequest{Version: 1})
	if err != nil {
		return err.Error()
	}
	return clientErr.Error()
}
