package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// TestWorkerCommandLines runs every factor-worker command line of deploy/
// (Kubernetes containers, ECS container definitions) with --help appended
// through the built binary: it must parse (exit 0), and every flag it
// gives must be one --help lists, not a deprecated spelling.
func TestWorkerCommandLines(t *testing.T) {
	testenv.SkipShort(t, "builds factor-worker")
	bin := filepath.Join(t.TempDir(), "factor-worker")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/factor-worker").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	lines := map[string][]string{} // file: container -> arguments
	for _, f := range deployFiles(t, ".yaml", ".yml", ".json") {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".json") {
			var doc any
			if json.Unmarshal(raw, &doc) == nil {
				workerArgs(doc, func(name string, args []string) { lines[f+": "+name] = args })
			}
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var doc any
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				break // not plain YAML (a template): TestManifests reports it
			}
			workerArgs(doc, func(name string, args []string) { lines[f+": "+name] = args })
		}
	}
	if len(lines) < 2 {
		t.Fatalf("factor-worker command lines found: %v; want the Kubernetes sidecar's and the ECS task's", lines)
	}
	flagRE := regexp.MustCompile(`(?m)^\s+--([\w.-]+)`)
	for where, args := range lines {
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, append(args, "--help")...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: factor-worker %s --help: %v: %s", where, strings.Join(args, " "), err, errb.String())
			continue
		}
		_, flags, _ := strings.Cut(out.String(), "\nFlags:\n")
		listed := map[string]bool{}
		for _, m := range flagRE.FindAllStringSubmatch(flags, -1) {
			listed[m[1]] = true
		}
		for _, a := range args {
			name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if strings.HasPrefix(a, "--") && !listed[name] {
				t.Errorf("%s: %s is not a flag factor-worker --help lists (a deprecated spelling?)", where, a)
			}
		}
	}
}

// workerArgs calls found for every container in v (a decoded manifest)
// whose command or entry point is factor-worker, with its arguments.
func workerArgs(v any, found func(name string, args []string)) {
	switch x := v.(type) {
	case map[string]any:
		// Kubernetes: command and args; ECS: entryPoint and command.
		exe, args := strs(x["command"]), strs(x["args"])
		if _, ecs := x["entryPoint"]; ecs {
			exe, args = strs(x["entryPoint"]), strs(x["command"])
		}
		if len(exe) > 0 && strings.HasSuffix(exe[0], "factor-worker") {
			name, _ := x["name"].(string)
			found(name, args)
			return
		}
		for _, e := range x {
			workerArgs(e, found)
		}
	case []any:
		for _, e := range x {
			workerArgs(e, found)
		}
	}
}

// strs is v as a list of strings (nil when it is not one).
func strs(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
