package main

import (
	"log/slog"
	"os"
	"strings"

	"github.com/IBM/sarama"
	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/internal/kafkasec"
)

// EnvSASLPassword is read when --sasl-password is not given, so the
// password need not appear on the command line (ps).
const EnvSASLPassword = "FACTOR_WORKER_SASL_PASSWORD"

// securityFlags adds the Kafka TLS and SASL flags (internal/kafkasec) to fs.
// After parsing, call the returned function for the configuration.
func securityFlags(fs *pflag.FlagSet) func() kafkasec.Config {
	var c kafkasec.Config
	var mech, password string
	fs.BoolVar(&c.TLS.Enable, "tls", false, "connect to the brokers with TLS")
	fs.StringVar(&c.TLS.CAFile, "tls-ca-file", "", "PEM file of the CAs that sign the brokers' certificates (default: the system roots)")
	fs.StringVar(&c.TLS.CertFile, "tls-cert-file", "", "PEM client certificate for mutual TLS (with --tls-key-file)")
	fs.StringVar(&c.TLS.KeyFile, "tls-key-file", "", "PEM key of the client certificate")
	fs.StringVar(&c.TLS.ServerName, "tls-server-name", "", "name to verify the brokers' certificates against (default: the broker host name)")
	fs.BoolVar(&c.TLS.InsecureSkipVerify, "tls-insecure-skip-verify", false, "accept any broker certificate (tests only; logged as a warning)")
	fs.StringVar(&mech, "sasl-mechanism", "", "SASL mechanism: "+kafkasec.Mechanisms+" (empty: no SASL)")
	fs.StringVar(&c.SASL.Username, "sasl-username", "", "SASL user name (PLAIN, SCRAM)")
	fs.StringVar(&password, "sasl-password", "", "SASL password; prefer the environment variable "+EnvSASLPassword+" or --sasl-password-file (flags show in ps). Never logged")
	fs.StringVar(&c.SASL.PasswordFile, "sasl-password-file", "", "file holding the SASL password (one trailing newline is dropped)")
	fs.StringVar(&c.SASL.AWSRegion, "sasl-aws-region", "", "AWS_MSK_IAM: the cluster's region (default: AWS_REGION)")
	fs.StringVar(&c.SASL.AWSRoleARN, "sasl-aws-role-arn", "", "AWS_MSK_IAM: IAM role to assume for signing (default: the AWS default credential chain)")
	return func() kafkasec.Config {
		c.SASL.Mechanism = kafkasec.Mechanism(mech)
		if password == "" && c.SASL.PasswordFile == "" && mech != "" {
			password = os.Getenv(EnvSASLPassword)
		}
		c.SASL.Password = kafkasec.Secret(password)
		return c
	}
}

// applySecurity validates sec (a usage error when wrong), logs its
// warnings and returns the sarama hook, nil for plaintext without SASL.
func applySecurity(sec kafkasec.Config, log *slog.Logger) (func(*sarama.Config) error, error) {
	if err := sec.Validate("--"); err != nil {
		return nil, usageError{flagNames(err.Error())}
	}
	for _, w := range sec.Warnings() {
		log.Warn(w)
	}
	if sec.IsZero() {
		return nil, nil
	}
	log.Info("kafka security", "security", sec)
	return sec.Apply, nil
}

// flagNames turns kafkasec's option names ("--tls.ca-file",
// "--sasl.aws-region") into this command's flags ("--tls-ca-file").
var flagNames = strings.NewReplacer("--tls.enable", "--tls", "--tls.", "--tls-", "--sasl.", "--sasl-").Replace
