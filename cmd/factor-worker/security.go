package main

import (
	"log/slog"

	"github.com/IBM/sarama"

	conv "github.com/offsetlag/offsetlag/internal/cli"
	"github.com/offsetlag/offsetlag/internal/kafkasec"
)

// applySecurity validates sec (a usage error when wrong), logs its
// warnings and returns the sarama hook, nil for plaintext without SASL.
func applySecurity(sec kafkasec.Config, log *slog.Logger) (func(*sarama.Config) error, error) {
	if err := sec.Validate("--kafka."); err != nil {
		return nil, conv.UsageError{Msg: err.Error()}
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
