package fuzzci

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// targets are the fuzz targets on bad input (issue 11): the configuration
// file, a worker record, the exporter's state file.
var targets = []struct{ name, pkg string }{
	{"FuzzLoadConfig", "./internal/appconfig"},
	{"FuzzParse", "./worker/message"},
	{"FuzzDecodeState", "./exporter"},
}

// fuzzTime is how long each target is fuzzed (3 targets: 24 s of fuzzing,
// plus the instrumented builds, cached after the first run).
const fuzzTime = "8s"

// TestFuzzTargets fuzzes every target for fuzzTime, one after the other
// with one worker each (CI machines are shared), when CI=true or
// OFFSETLAG_TEST_FUZZ=1. Otherwise it skips: a plain `go test` already runs
// each target's seed corpus as a unit test. A crash fails the test with
// the fuzzer's output; Go saves the failing input under the package's
// testdata/fuzz/, where it becomes a seed case.
func TestFuzzTargets(t *testing.T) {
	if !testenv.InCI() && os.Getenv("OFFSETLAG_TEST_FUZZ") != "1" {
		t.Skip("set CI=true or OFFSETLAG_TEST_FUZZ=1 to fuzz each target for " + fuzzTime)
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			start := time.Now()
			cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-fuzz", "^"+tg.name+"$",
				"-fuzztime", fuzzTime, "-parallel", "1", tg.pkg)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go test -fuzz %s %s: %v\n%s", tg.name, tg.pkg, err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			last := ""
			for _, l := range lines {
				if strings.Contains(l, "execs:") {
					last = strings.TrimSpace(l)
				}
			}
			t.Logf("%s (%s): %s in %s", tg.name, tg.pkg, last, time.Since(start).Round(time.Second))
			t.Logf("RELIABILITY | bad input: fuzz %s for %s | never panics; errors are typed/clear | no crash (%s) |", tg.name, fuzzTime, last)
		})
	}
}
