package e2e

import (
	"log"
	"os"

	"github.com/IBM/sarama"
)

// init sends sarama's log to stderr when E2E_SARAMA_DEBUG is set.
func init() {
	if os.Getenv("E2E_SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
}
