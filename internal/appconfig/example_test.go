package appconfig

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
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
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	shipped, err := load(t, []string{"--config", path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defaults := Defaults()
	fs := Flags("test")
	n := 0
	for _, o := range Options() {
		n++
		key, val := lookup(doc.Content[0], strings.Split(o.Key, "."))
		if key == nil {
			t.Errorf("%s: in --help (--%s) but not in %s", o.Key, o.Flag, path)
			continue
		}
		got, want := o.Get(shipped), o.Get(defaults)
		if why, ok := shippedNotDefault[o.Key]; ok {
			if reflect.DeepEqual(got, want) {
				t.Errorf("%s: listed as shipped other than its default (%s), but it is the default", o.Key, why)
			}
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s says %v (line %d), --help's default is %s", o.Key, path, got, key.Line, fs.Lookup(o.Flag).DefValue)
		}
		if o.Range != nil {
			comment := key.LineComment + val.LineComment
			if !strings.Contains(comment, o.Range.Text()) {
				t.Errorf("%s (line %d): the comment %q does not state the range of --help, %q", o.Key, key.Line, comment, o.Range.Text())
			}
		}
	}
	if n < 70 {
		t.Errorf("only %d options", n)
	}
}

// lookup finds the key and value nodes of a path in a YAML mapping.
func lookup(m *yaml.Node, path []string) (*yaml.Node, *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != path[0] {
			continue
		}
		if len(path) == 1 {
			return m.Content[i], m.Content[i+1]
		}
		return lookup(m.Content[i+1], path[1:])
	}
	return nil, nil
}
