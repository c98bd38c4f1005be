package e2e

import (
	"log"
	"os"

	"github.com/IBM/sarama"
)

func init() {
	if os.Getenv("E2E_SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
}
