package main

import (
	"log/slog"
	"strings"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/kafkasec"
)

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
