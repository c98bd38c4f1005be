package appconfig

import (
	"fmt"

	"github.com/offsetlag/offsetlag/internal/kafkasec"
)

// securityFlagDefs are the kafka.tls.* and kafka.sasl.* options (the
// internal/kafkasec settings). A cluster of the clusters list without its
// own tls: and sasl: blocks inherits them.
var securityFlagDefs = []flagDef{
	{"kafka.tls.enable", false, "connect to the brokers with TLS"},
	{"kafka.tls.ca-file", "", "PEM file of the CAs that sign the brokers' certificates (default: the system roots, enough for Amazon MSK)"},
	{"kafka.tls.cert-file", "", "PEM client certificate, for brokers that require mutual TLS (with --kafka.tls.key-file)"},
	{"kafka.tls.key-file", "", "PEM key of the client certificate"},
	{"kafka.tls.server-name", "", "name to verify the brokers' certificates against (default: each broker's host name)"},
	{"kafka.tls.insecure-skip-verify", false, "accept any broker certificate (tests only: allows a man in the middle; logged as a warning)"},
	{"kafka.sasl.mechanism", "", "SASL mechanism: " + kafkasec.Mechanisms + " (empty: no SASL)"},
	{"kafka.sasl.username", "", "SASL user name (PLAIN, SCRAM)"},
	{"kafka.sasl.password", "", "SASL password (PLAIN, SCRAM); prefer the environment variable OFFSETLAG_KAFKA_SASL_PASSWORD or --kafka.sasl.password-file, since flags show in ps. Never logged"},
	{"kafka.sasl.password-file", "", "file holding the SASL password (a mounted secret; one trailing newline is dropped)"},
	{"kafka.sasl.aws-region", "", "AWS_MSK_IAM: the MSK cluster's region (default: AWS_REGION or the shared config)"},
	{"kafka.sasl.aws-role-arn", "", "AWS_MSK_IAM: IAM role to assume with STS; its credentials sign the tokens (default: the AWS default credential chain's own identity)"},
}

// Security returns the cluster's Kafka security settings.
func (cl ClusterConfig) Security() kafkasec.Config {
	return kafkasec.Config{TLS: cl.TLS, SASL: cl.SASL}
}

// withKafkaSecurity gives a cluster without tls: settings kafka.tls, and
// one without sasl: settings kafka.sasl.
func (c *Config) withKafkaSecurity(cl ClusterConfig) ClusterConfig {
	if cl.TLS == (kafkasec.TLSConfig{}) {
		cl.TLS = c.Kafka.TLS
	}
	if cl.SASL == (kafkasec.SASLConfig{}) {
		cl.SASL = c.Kafka.SASL
	}
	return cl
}

// validateSecurity checks kafka.tls/sasl and each listed cluster's own
// blocks, naming the option in the message.
func (c *Config) validateSecurity() error {
	if err := (kafkasec.Config{TLS: c.Kafka.TLS, SASL: c.Kafka.SASL}).Validate("kafka."); err != nil {
		return err
	}
	for i, cl := range c.Clusters {
		if err := c.withKafkaSecurity(cl).Security().Validate(fmt.Sprintf("clusters[%d].", i)); err != nil {
			return fmt.Errorf("cluster %q: %w", cl.Name, err)
		}
	}
	return nil
}
