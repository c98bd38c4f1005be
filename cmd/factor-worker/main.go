// Command factor-worker is the bundled Kafka consumer: it factors
// {"number": N} records with Lambda event-source-mapping semantics
// ("run") and generates load for itself ("produce").
package main

import (
	"os"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}
