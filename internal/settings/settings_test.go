package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Enable bool   `mapstructure:"enable" help:"turn it on"`
	File   string `mapstructure:"ca-file" help:"a file (with {flag:enable}; env {env})"`
}

type common struct {
	Brokers []string      `mapstructure:"brokers" inherit:"no" help:"brokers"`
	Timeout time.Duration `mapstructure:"timeout" range:"100ms..5m" help:"a timeout"`
	TLS     inner         `mapstructure:"tls"`
}

type filter struct {
	Allow []string `mapstructure:"allow" help:"only {what}"`
}

type item struct {
	Name   string `mapstructure:"name"`
	common `mapstructure:",squash"`
}

type root struct {
	Name   string        `mapstructure:"name" help:"a name"`
	Common common        `mapstructure:"kafka"`
	Count  int           `mapstructure:"count" range:"0|2..10" help:"a count"`
	Big    uint64        `mapstructure:"big" range:"1..1000" help:"unsigned"`
	Share  float64       `mapstructure:"share" help:"a share"`
	Period time.Duration `mapstructure:"period" range:"0|1s..168h" help:"a period"`
	Groups filter        `mapstructure:"groups" help:"groups"`
	Items  []item        `mapstructure:"items"`
}

func (r *root) SetDefaults() {
	r.Name, r.Count, r.Big, r.Period = "x", 3, 5, time.Minute
	r.Common.Timeout = 10 * time.Second
}

var testSpec = Spec{EnvPrefix: "T_", IgnoreEnv: []string{"T_IGNORED_"}, Sep: "-", FileFlag: "config.file",
	FileHelp: "the file", Rename: map[string]string{"kafka-tls-enable": "tls"}}

func defaults() *root {
	r := &root{}
	r.SetDefaults()
	return r
}

func load(t *testing.T, args, env []string) (*root, error) {
	t.Helper()
	fs := testSpec.FlagSet("t", defaults())
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	r := defaults()
	return r, testSpec.Load(r, fs, env)
}

func TestDerivedNames(t *testing.T) {
	got := map[string]Option{}
	for _, o := range testSpec.Options(defaults()) {
		got[o.Key] = o
	}
	for _, c := range []struct{ key, flag, env, help string }{
		{"kafka.tls.enable", "tls", "T_KAFKA_TLS_ENABLE", "turn it on"},
		{"kafka.tls.ca-file", "kafka-tls-ca-file", "T_KAFKA_TLS_CA_FILE", "a file (with --tls; env T_KAFKA_TLS_CA_FILE)"},
		{"groups.allow", "groups-allow", "T_GROUPS_ALLOW", "only groups"},
		{"period", "period", "T_PERIOD", "a period"},
	} {
		o, ok := got[c.key]
		if !ok || o.Flag != c.flag || o.Env != c.env || o.Help != c.help {
			t.Errorf("%s: %+v, want flag %s env %s help %q", c.key, o, c.flag, c.env, c.help)
		}
	}
	if _, ok := got["items"]; ok {
		t.Error("a list of structs became a flag")
	}
	fs := testSpec.FlagSet("t", defaults())
	if u := fs.Lookup("period").Usage; u != "a period (range: 0 or 1s to 168h)" {
		t.Errorf("usage %q", u)
	}
	if d := fs.Lookup("kafka-timeout").DefValue; d != "10s" {
		t.Errorf("default %q, want SetDefaults' 10s", d)
	}
}

func TestPrecedenceAndStrictness(t *testing.T) {
	f := filepath.Join(t.TempDir(), "c.yaml")
	yaml := "Name: file\ncount: 4\nkafka:\n  timeout: 1s\n  tls: {enable: true}\nitems:\n  - {name: a, brokers: [b:1]}\n"
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := load(t, []string{"--config.file", f, "--count", "5"}, []string{"T_COUNT=6", "T_KAFKA_TIMEOUT=2s", "T_IGNORED_X=1", "OTHER=1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "file" || r.Count != 5 || r.Common.Timeout != 2*time.Second || !r.Common.TLS.Enable || r.Big != 5 {
		t.Errorf("got %+v", r)
	}
	if len(r.Items) != 1 || r.Items[0].Name != "a" || r.Items[0].Brokers[0] != "b:1" {
		t.Errorf("items %+v", r.Items)
	}
	r, err = load(t, nil, []string{"T_CONFIG_FILE=" + f})
	if err != nil || r.Name != "file" {
		t.Errorf("file from the environment: %+v %v", r, err)
	}

	for _, c := range []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"unknown key", "nmae: x\n", nil, "invalid keys: nmae"},
		{"unknown variable", "", []string{"T_NMAE=x"}, "environment variable T_NMAE: unknown option"},
		{"bare duration", "period: 30\n", nil, "period: bare number 30"},
		{"bare duration env", "", []string{"T_PERIOD=30"}, "period: bare number 30"},
		{"fraction", "count: 2.5\n", nil, "count: 2.5: want a whole number"},
		{"not a mapping", "[1, 2]\n", nil, "want a mapping of options"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string(nil)
			if c.yaml != "" {
				g := filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(g, []byte(c.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = []string{"--config.file", g}
			}
			_, err := load(t, args, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, c.want)
			}
		})
	}
}

func TestRanges(t *testing.T) {
	r := defaults()
	if err := Check(r, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		set  func(*root)
		want string
	}{
		{func(r *root) { r.Count = 1 }, "count 1: out of range, want 0 or 2 to 10"},
		{func(r *root) { r.Count = 11 }, "count 11: out of range"},
		{func(r *root) { r.Big = 0 }, "big 0: out of range, want 1 to 1000"},
		{func(r *root) { r.Common.Timeout = time.Millisecond }, "kafka.timeout 1ms: out of range, want 100ms to 5m"},
		{func(r *root) { r.Period = -time.Hour }, "period -1h0m0s: out of range, want 0 or 1s to 168h"},
	} {
		r := defaults()
		c.set(r)
		if err := Check(r, ""); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	r.Count = 0 // the lone 0
	if err := Check(r, ""); err != nil {
		t.Error(err)
	}
	rg, _ := ParseRange("1|60", false)
	if rg.Text() != "1 or 60" || rg.Contains(30) || rg.Min() != 1 || rg.Max() != 60 {
		t.Errorf("1|60: %s %d %d", rg.Text(), rg.Min(), rg.Max())
	}
	if _, err := ParseRange("5..1", false); err == nil {
		t.Error("5..1 accepted")
	}
}

func TestInherit(t *testing.T) {
	parent := common{Brokers: []string{"p:1"}, Timeout: time.Second, TLS: inner{Enable: true, File: "/ca"}}
	own := common{TLS: inner{File: "/own"}}
	Inherit(&own, parent)
	if own.Brokers != nil || own.Timeout != time.Second || own.TLS.Enable || own.TLS.File != "/own" {
		t.Errorf("inherited %+v: want the timeout, not the brokers (inherit:no), and the own tls block whole", own)
	}
	none := common{}
	Inherit(&none, parent)
	if !none.TLS.Enable || none.TLS.File != "/ca" {
		t.Errorf("tls block not inherited: %+v", none)
	}
}

func TestDeclarationErrorsPanic(t *testing.T) {
	type noHelp struct {
		X int `mapstructure:"x"`
	}
	type badRange struct {
		X int `mapstructure:"x" help:"x" range:"a..b"`
	}
	type clash struct {
		A string `mapstructure:"tls-enable" help:"a"`
		B struct {
			Enable string `mapstructure:"enable" help:"b"`
		} `mapstructure:"tls"`
	}
	for name, v := range map[string]any{"no help": &noHelp{}, "bad range": &badRange{}, "same variable": &clash{}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			testSpec.Options(v)
		}()
	}
}

type lib struct {
	Mode    string        `mapstructure:"mode" oneof:"off|on" help:"a mode"`
	Queue   int           `mapstructure:"queue" range:"1..10" help:"zero is not valid: filled"`
	Budget  int           `mapstructure:"budget" range:"0..100" help:"zero means none: kept"`
	Name    string        `mapstructure:"name" help:"empty: filled"`
	On      bool          `mapstructure:"on" help:"a bool is a value"`
	Timeout time.Duration `mapstructure:"timeout" range:"0|1s..1m" help:"kept"`
}

func (l *lib) SetDefaults() {
	*l = lib{Mode: "off", Queue: 5, Budget: 50, Name: "n", On: true, Timeout: time.Second}
}

func TestOneOfAndFillZero(t *testing.T) {
	var d lib
	d.SetDefaults()
	var got lib
	FillZero(&got, d)
	if got != (lib{Mode: "off", Queue: 5, Name: "n"}) {
		t.Errorf("FillZero = %+v: want mode, queue and name filled, budget, on and timeout kept", got)
	}
	got.Mode = "sideways"
	if err := Check(&got, "x."); err == nil || err.Error() != `x.mode "sideways": want off or on` {
		t.Errorf("err = %v", err)
	}
}
