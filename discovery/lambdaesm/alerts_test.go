package lambdaesm_test

import (
	"os"
	"os/exec"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/internal/testing/promtest"
	"github.com/offsetlag/offsetlag/metrics"
)

// The alert rules only reference metric names the exporter has, and pass
// their promtool unit tests (without promtool: skipped, failed with CI=true).
func TestAlertRules(t *testing.T) {
	const rules = "../../deploy/alerts/lambda-esm.rules.yml"
	raw, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	ch := make(chan *prometheus.Desc, 256)
	metrics.NewCollector(nil, metrics.Options{}).Describe(ch)
	close(ch)
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if m := name.FindStringSubmatch(d.String()); m != nil {
			known[m[1]] = true
		}
	}
	used := regexp.MustCompile(`\boffsetlag_[a-z_]+\b`).FindAllString(string(raw), -1)
	if len(used) < 4 {
		t.Fatalf("only %d metric names in %s", len(used), rules)
	}
	for _, m := range used {
		if !known[m] {
			t.Errorf("%s: unknown metric %s", rules, m)
		}
	}
	cmd := exec.Command(promtest.Promtool(t), "test", "rules", "lambda-esm_test.yml")
	cmd.Dir = "../../deploy/alerts"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
