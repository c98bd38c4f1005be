package appconfig

import (
	"fmt"
	"strings"
	"testing"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/kafkasec"
)

func TestSecurityOptions(t *testing.T) {
	t.Run("flags and environment", func(t *testing.T) {
		c := mustLoad(t, []string{"--kafka.brokers", "b:9096", "--kafka.tls.enable", "--kafka.tls.ca-file", "/ca.pem",
			"--kafka.sasl.mechanism", "SCRAM-SHA-512", "--kafka.sasl.username", "lag"},
			[]string{"OFFSETLAG_KAFKA_SASL_PASSWORD=s3cret", "OFFSETLAG_KAFKA_TLS_SERVER_NAME=kafka.internal"})
		sec := c.ClusterList()[0].Security()
		want := kafkasec.Config{TLS: kafkasec.TLSConfig{Enable: true, CAFile: "/ca.pem", ServerName: "kafka.internal"},
			SASL: kafkasec.SASLConfig{Mechanism: kafkasec.MechanismSCRAMSHA512, Username: "lag", Password: "s3cret"}}
		if sec != want {
			t.Fatalf("security = %s, want %s", sec, want)
		}
		if dump := fmt.Sprintf("%+v", c); strings.Contains(dump, "s3cret") {
			t.Errorf("a dump of the configuration shows the password: %s", dump)
		}
	})
	t.Run("clusters inherit kafka.tls and kafka.sasl unless they set their own", func(t *testing.T) {
		yaml := `kafka:
  tls: {enable: true}
  sasl: {mechanism: AWS_MSK_IAM, aws-region: eu-west-1}
clusters:
  - {name: msk, brokers: ["b-1.msk:9098"]}
  - name: onprem
    brokers: ["k1:9093"]
    tls: {enable: true, ca-file: /onprem-ca.pem}
    sasl: {mechanism: SCRAM-SHA-256, username: lag, password-file: /pw}
`
		f := configFile(t, yaml)
		c := mustLoad(t, []string{"--config", f}, nil)
		cl := c.ClusterList()
		if s := cl[0].Security(); s.SASL.Mechanism != kafkasec.MechanismAWSMSKIAM || s.SASL.AWSRegion != "eu-west-1" || !s.TLS.Enable {
			t.Errorf("msk security = %s", s)
		}
		if s := cl[1].Security(); s.SASL.Mechanism != kafkasec.MechanismSCRAMSHA256 || s.TLS.CAFile != "/onprem-ca.pem" {
			t.Errorf("onprem security = %s", s)
		}
		if cl[1].Admin().Customize == nil {
			t.Error("Admin() does not apply the security settings")
		}
	})
	t.Run("admin applies them", func(t *testing.T) {
		c := mustLoad(t, []string{"--kafka.brokers", "b:9096", "--kafka.sasl.mechanism", "PLAIN", "--kafka.sasl.username", "u",
			"--kafka.tls.enable"}, []string{"OFFSETLAG_KAFKA_SASL_PASSWORD=p"})
		kc := c.ClusterList()[0].Admin()
		sc := sarama.NewConfig()
		if err := kc.Customize(sc); err != nil {
			t.Fatal(err)
		}
		if !sc.Net.TLS.Enable || !sc.Net.SASL.Enable || sc.Net.SASL.Mechanism != sarama.SASLTypePlaintext || sc.Net.SASL.Password != "p" {
			t.Errorf("sarama config tls %v sasl %+v", sc.Net.TLS.Enable, sc.Net.SASL)
		}
		if (ClusterConfig{Name: "x", ClusterSettings: ClusterSettings{Brokers: []string{"b:1"}}}).Admin().Customize != nil {
			t.Error("Customize set without security settings")
		}
	})
	bad := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"unknown mechanism", []string{"--kafka.sasl.mechanism", "KERBEROS"}, nil, `kafka.sasl.mechanism "KERBEROS": want PLAIN`},
		{"scram without password", []string{"--kafka.sasl.mechanism", "SCRAM-SHA-256", "--kafka.sasl.username", "u"}, nil, "needs kafka.sasl.password"},
		{"password without mechanism", nil, []string{"OFFSETLAG_KAFKA_SASL_PASSWORD=p"}, "kafka.sasl.mechanism is empty"},
		{"ca without tls", []string{"--kafka.tls.ca-file", "/ca.pem"}, nil, "kafka.tls.enable is false"},
		{"bad bool", nil, []string{"OFFSETLAG_KAFKA_TLS_ENABLE=maybe"}, "tls.enable"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, append([]string{"--kafka.brokers", "b:1"}, tt.args...), tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error shows a password: %v", err)
			}
		})
	}
	t.Run("listed cluster error names it", func(t *testing.T) {
		f := configFile(t, "clusters:\n  - {name: a, brokers: [\"k:1\"], sasl: {mechanism: PLAIN}}\n")
		_, err := load(t, []string{"--config", f}, nil)
		if err == nil || !strings.Contains(err.Error(), `cluster "a": clusters[0].sasl.mechanism PLAIN needs clusters[0].sasl.username`) {
			t.Fatalf("Load = %v", err)
		}
	})
}
