package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/offsetlag/offsetlag"

// pkg is one package of the module as `go list -json` reports it. Imports
// are the non-test imports: the rules are about product code (tests may
// import what they check against, e.g. exporter's tests use metrics).
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// list runs `go list -json -deps=false` over the module. It needs only the
// go command that runs the test: $GOROOT/bin/go when the go command set GOROOT
// for the test, else the go on PATH.
func list(t *testing.T) map[string]pkg {
	t.Helper()
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		goBin = filepath.Join(root, "bin", "go")
	}
	cmd := exec.Command(goBin, "list", "-json=ImportPath,Imports,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module+"/")] = p
	}
	for _, must := range []string{"exporter", "exporter/result", "exporter/lag", "exporter/expiry", "exporter/status", "kafkaadmin", "metrics", "metrics/cloudwatch", "cmd/offsetlag-exporter", "ha"} {
		if _, ok := pkgs[must]; !ok {
			t.Fatalf("go list did not report %s (got %d packages)", must, len(pkgs))
		}
	}
	return pkgs
}

// hasPrefix reports whether path is one of prefixes or under one of them.
func hasPrefix(path string, prefixes ...string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

const (
	sarama     = "github.com/IBM/sarama"
	franz      = "github.com/twmb/franz-go"
	prometheus = "github.com/prometheus"
	aws        = "github.com/aws"
	smithy     = "github.com/aws/smithy-go"
)

// TestImportRules checks the "Rules" of ARCHITECTURE.md on the direct,
// non-test imports of every package.
func TestImportRules(t *testing.T) {
	pkgs := list(t)
	forbid := func(pkgName, why string, bad ...string) {
		t.Helper()
		for _, imp := range pkgs[pkgName].Imports {
			if hasPrefix(imp, bad...) {
				t.Errorf("%s imports %s: %s", pkgName, imp, why)
			}
		}
	}
	mod := func(p string) string { return module + "/" + p }

	// kafkaadmin speaks Kafka and nothing else of the module.
	forbid("kafkaadmin", "kafkaadmin is the bottom layer and imports no package of the module", module)
	// exporter/...: every arrow points down. The Result types sit on the
	// ground (exporter/result), the math and memory above them, the poll
	// loop (exporter) on top; none imports a sink, cmd/, a Kafka client,
	// Prometheus or AWS. A new package under exporter/ needs its line here.
	exporterAllowed := map[string][]string{
		"exporter/result":         {},
		"exporter/internal/dense": {},
		"exporter/lag":            {mod("kafkaadmin"), mod("exporter/result")},
		"exporter/expiry":         {mod("kafkaadmin"), mod("exporter/result"), mod("exporter/internal/dense")},
		"exporter/status":         {mod("kafkaadmin"), mod("exporter/result")},
		"exporter": {mod("kafkaadmin"), mod("exporter/result"), mod("exporter/lag"),
			mod("exporter/expiry"), mod("exporter/status"), mod("exporter/internal/dense")},
	}
	for name, p := range pkgs {
		if !hasPrefix(name, "exporter") {
			continue
		}
		allowed, ok := exporterAllowed[name]
		if !ok {
			t.Errorf("%s: no import rule for this package under exporter/ (add it to exporterAllowed and ARCHITECTURE.md)", name)
			continue
		}
		for _, imp := range p.Imports {
			if hasPrefix(imp, module) && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s: of the module, %s may import only %v", name, imp, name, allowed)
			}
		}
		forbid(name, "exporter/... never imports a Kafka client, Prometheus or AWS", sarama, franz, prometheus, aws, smithy)
	}

	// Sinks and HTTP read Results only: no Kafka client, no kafkaadmin, so a
	// scrape or a publish cannot send a Kafka request.
	for _, sink := range []string{"metrics", "metrics/cloudwatch", "internal/statuspage", "internal/httpapi"} {
		forbid(sink, "sinks read result.Result only and cannot reach Kafka", sarama, franz, mod("kafkaadmin"))
		for _, imp := range pkgs[sink].Imports {
			if hasPrefix(imp, mod("exporter")) && imp != mod("exporter/result") {
				t.Errorf("%s imports %s: of exporter/..., sinks import only exporter/result", sink, imp)
			}
		}
	}
	forbid("metrics", "the Prometheus sink does not depend on the CloudWatch one or AWS", mod("metrics/cloudwatch"), aws, smithy)

	// internal/cli is the command-line convention of every binary: a leaf.
	forbid("internal/cli", "internal/cli imports no package of the module", module)

	// internal/app is the wiring of the exporter process: only binaries
	// import it.
	for name, p := range pkgs {
		if hasPrefix(mod(name), mod("cmd")) {
			continue
		}
		for _, imp := range p.Imports {
			if imp == mod("internal/app") {
				t.Errorf("%s imports internal/app: only cmd/ may (it wires everything)", name)
			}
		}
	}

	// internal/backoff is a leaf helper (worker, stores, demo, CloudWatch retries).
	forbid("internal/backoff", "internal/backoff is a leaf helper and imports no package of the module", module)

	// The configuration machinery is a leaf: packages declare their Config
	// with plain struct tags, and any package may use it.
	forbid("internal/settings", "internal/settings imports no package of the module", module)

	forbid("internal/namefilter", "internal/namefilter is a leaf helper and imports no package of the module", module)

	// ha coordinates replicas with its own franz-go client: it polls no lag
	// (no sarama, no kafkaadmin), exports nothing itself (no Prometheus, no
	// AWS, no sink) and hooks into the exporter only through exporter's
	// Owner interface; the expiry tracker's state passes through it as
	// JSON the tracker encodes (expiry.Options.Share, Tracker.Restore), so
	// it imports no expiry type.
	forbid("ha", "ha speaks only the coordination protocol (franz-go) and hands state to the exporter",
		sarama, mod("kafkaadmin"), prometheus, aws, smithy, mod("metrics"), mod("internal/statuspage"), mod("internal/httpapi"), mod("cmd"),
		mod("exporter/expiry"))
	for name := range pkgs {
		if hasPrefix(mod(name), mod("exporter"), mod("kafkaadmin"), mod("metrics")) {
			forbid(name, "the poll path and the sinks never depend on the HA membership", mod("ha"))
		}
	}

	// Product code never imports a test rig. The rigs live under
	// internal/testing (kafkatest, mototest, promtest, testpki, fuzzci,
	// kfaketest, testenv), apart from the product packages: a package named
	// like a rig (...test) anywhere else is one in the wrong place.
	rigs := []string{mod("internal/testing"), mod("internal/archtest")}
	for name, p := range pkgs {
		if hasPrefix(mod(name), rigs...) {
			continue // rigs may use each other (kafkatest uses testpki and testenv)
		}
		if base := name[strings.LastIndex(name, "/")+1:]; strings.HasSuffix(base, "test") {
			t.Errorf("%s looks like a test rig: rigs belong under internal/testing/", name)
		}
		for _, imp := range p.Imports {
			if hasPrefix(imp, rigs...) {
				t.Errorf("%s imports the test rig %s", name, imp)
			}
		}
	}
}

// TestSaramaOnExporterSide checks which packages of the module linked into
// offsetlag-exporter import sarama: kafkaadmin (every request) and
// internal/kafkasec (TLS/SASL into a *sarama.Config, handed to
// kafkaadmin.Config.Customize by internal/appconfig; shared with
// factor-worker). ARCHITECTURE.md names kafkasec as the one exception.
func TestSaramaOnExporterSide(t *testing.T) {
	pkgs := list(t)
	bin := pkgs["cmd/offsetlag-exporter"]
	var got []string
	for _, dep := range append([]string{bin.ImportPath}, bin.Deps...) {
		if !hasPrefix(dep, module) {
			continue
		}
		p, ok := pkgs[strings.TrimPrefix(dep, module+"/")]
		if !ok {
			t.Fatalf("dependency %s of offsetlag-exporter not listed", dep)
		}
		if slices.ContainsFunc(p.Imports, func(imp string) bool { return hasPrefix(imp, sarama) }) {
			got = append(got, strings.TrimPrefix(dep, module+"/"))
		}
	}
	slices.Sort(got)
	want := []string{"internal/kafkasec", "kafkaadmin"}
	if !slices.Equal(got, want) {
		t.Errorf("packages of offsetlag-exporter importing sarama: got %v, want %v", got, want)
	}
}
