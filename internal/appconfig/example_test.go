package appconfig

import (
	"os"
	"testing"
)

// shippedNotDefault are the options configs/exporter.yaml sets to other
// than their default, on purpose.
var shippedNotDefault = map[string]string{
	"kafka.brokers": "the example runs as shipped against 127.0.0.1:9092; the default is none",
	"groups.deny":   "shows the syntax by denying console-consumer-.*",
}

// configs/exporter.yaml and --help agree: every option of --help is in the
// file with its default (unless listed in shippedNotDefault) and, when it
// has a range, the range as --help prints it in the line's comment. Since
// flags, environment variables, YAML keys and --help all come from the
// one declaration (internal/settings), an option added to a Config struct
// fails this test until the example documents it.
func TestExampleMatchesHelp(t *testing.T) {
	const path = "../../configs/exporter.yaml"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shipped := mustLoad(t, []string{"--config", path}, nil)
	for _, m := range spec.ExampleMismatches(Defaults(), shipped, raw, shippedNotDefault) {
		t.Errorf("%s: %s", path, m)
	}
	if n := len(Options()); n < 70 {
		t.Errorf("only %d options", n)
	}
}
