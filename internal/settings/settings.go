// Package settings derives a program's command-line flags, environment
// variables and YAML keys from one tagged configuration struct, so that
// each option is declared once: a struct field with its tags, a default
// set by the struct's SetDefaults, and its checks (a range tag, or the
// struct's Validate).
//
// Tags of a field:
//
//	mapstructure:"key"   the YAML key; ",squash" on an embedded struct
//	                     puts its fields at the parent's level
//	help:"text"          the --help text; every option has one
//	range:"100ms..5m"    the valid values of a number or duration: one or
//	                     more "min..max" intervals or single values joined
//	                     by "|" ("0|1s..168h", "1|60"); shown in --help
//	                     and checked by Check
//	oneof:"a|b|c"        the valid values of a string: checked by Check
//	                     ("key \"x\": want a, b or c")
//	inherit:"no"         see Inherit
//
// In a help tag, {env} stands for the option's environment variable and
// {what} for the help tag of the struct field it is in (one struct type
// used twice: groups and topics filters); {flag:name} is the flag of the
// option name of the same struct.
//
// A struct field recurses; a slice of structs (a list of clusters) is a
// file-only option. The flag of an option is its YAML path joined with
// Spec.Sep; its environment variable is Spec.EnvPrefix and the path in
// upper case, "." and "-" replaced by "_".
//
// Load layers the file, the environment (Spec.AltEnvPrefix, then
// Spec.EnvPrefix) and the flags (in rising precedence) over the defaults,
// strictly: unknown keys and unknown variables with a prefix are errors, durations need a unit, integers
// must be whole. Messages are one line and name the option.
//
// This package imports no product package: product packages declare
// their Config with plain struct tags and need not import it.
package settings

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Spec is how a program names its options.
type Spec struct {
	// EnvPrefix starts every environment variable ("OFFSETLAG_").
	EnvPrefix string
	// AltEnvPrefix, when set, is a second prefix for the same variables,
	// read under EnvPrefix: with "FACTOR_WORKER_" and "OFFSETLAG_",
	// OFFSETLAG_GROUP sets the option of FACTOR_WORKER_GROUP unless that
	// is set too. Unknown variables of either prefix are errors; IgnoreEnv
	// applies to both.
	AltEnvPrefix string
	// IgnoreEnv are prefixes of variables that are not options
	// ("OFFSETLAG_TEST_").
	IgnoreEnv []string
	// Sep joins the path of a nested option into its flag name: "." gives
	// --kafka.tls.enable, "-" gives --tls-enable.
	Sep string
	// FileFlag names the flag of the YAML file ("config"), FileHelp its
	// help; empty: no file.
	FileFlag, FileHelp string
	// Rename maps a derived flag name to the one used instead
	// ("tls-enable" -> "tls").
	Rename map[string]string
}

// Option is one declared option.
type Option struct {
	// Key is the YAML path ("cloudwatch.queue-size").
	Key string
	// Flag and Env are its flag name and environment variable.
	Flag, Env string
	// Help is the help tag, without the range.
	Help string
	// Range is nil for options without a range tag.
	Range *Range
	// OneOf are the valid values of a string option (oneof tag), nil
	// when any string goes.
	OneOf []string
	// Default is the value after SetDefaults.
	Default any
	// Type is the field's type.
	Type  reflect.Type
	index []int
}

// Get returns the option's value in v, a pointer to the struct the
// option was derived from.
func (o Option) Get(v any) any {
	return reflect.ValueOf(v).Elem().FieldByIndex(o.index).Interface()
}

// Usage is the --help text: help and range.
func (o Option) Usage() string {
	if o.Range != nil {
		return o.Help + " (range: " + o.Range.Text() + ")"
	}
	return o.Help
}

// Options returns the options of defaults, a pointer to a struct on which
// SetDefaults was called, in struct order. It panics on a declaration
// error (an option without help, a bad range tag): a programming error
// that every test of the program finds.
func (s Spec) Options(defaults any) []Option {
	v := reflect.ValueOf(defaults)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic("settings: defaults must be a pointer to a struct")
	}
	var out []Option
	s.walk(v.Elem(), nil, nil, "", &out)
	seen := map[string]string{}
	for _, o := range out {
		for _, name := range []string{"--" + o.Flag, o.Env} {
			if other, ok := seen[name]; ok {
				panic(fmt.Sprintf("settings: %s and %s both make %s", other, o.Key, name))
			}
			seen[name] = o.Key
		}
	}
	return out
}

var durationType = reflect.TypeFor[time.Duration]()

// keyOf returns the mapstructure key of a field, and whether it squashes.
func keyOf(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("mapstructure")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(","+opts+",", ",squash,") || (f.Anonymous && name == "") {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

func (s Spec) walk(v reflect.Value, path []string, index []int, what string, out *[]Option) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("mapstructure") == "-" {
			continue
		}
		key, squash := keyOf(f)
		idx := append(slices.Clone(index), i)
		fv := v.Field(i)
		if squash {
			s.walk(fv, path, idx, what, out)
			continue
		}
		p := append(slices.Clone(path), key)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			s.walk(fv, p, idx, f.Tag.Get("help"), out)
			continue
		}
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct {
			continue // a list of structs: file only
		}
		if !flagKind(f.Type) {
			panic(fmt.Sprintf("settings: %s: type %s cannot be an option", strings.Join(p, "."), f.Type))
		}
		help := f.Tag.Get("help")
		if help == "" {
			panic(fmt.Sprintf("settings: %s: option without a help tag", strings.Join(p, ".")))
		}
		o := Option{Key: strings.Join(p, "."), Flag: strings.Join(p, s.Sep), Help: help,
			Default: fv.Interface(), Type: f.Type, index: idx}
		if n, ok := s.Rename[o.Flag]; ok {
			o.Flag = n
		}
		o.Env = s.envName(o.Key)
		o.Help = strings.NewReplacer("{env}", o.Env, "{what}", what).Replace(o.Help)
		o.Help = s.siblingFlags(o.Help, path)
		if one := f.Tag.Get("oneof"); one != "" {
			o.OneOf = strings.Split(one, "|")
		}
		if rt := f.Tag.Get("range"); rt != "" {
			r, err := ParseRange(rt, f.Type == durationType)
			if err != nil {
				panic(fmt.Sprintf("settings: %s: %v", o.Key, err))
			}
			o.Range = &r
		}
		*out = append(*out, o)
	}
}

// siblingFlags replaces {flag:name} in a help text by the flag of the
// option name beside it ("--kafka.tls.key-file").
func (s Spec) siblingFlags(help string, path []string) string {
	for {
		i := strings.Index(help, "{flag:")
		if i < 0 {
			return help
		}
		j := strings.Index(help[i:], "}")
		if j < 0 {
			return help
		}
		name := strings.Join(append(slices.Clone(path), help[i+len("{flag:"):i+j]), s.Sep)
		if n, ok := s.Rename[name]; ok {
			name = n
		}
		help = help[:i] + "--" + name + help[i+j+1:]
	}
}

func flagKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

func (s Spec) envName(key string) string {
	return s.EnvPrefix + strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(key))
}

// FlagSet returns a flag set with the file flag and every option of
// defaults (see Options), defaults and ranges in the help.
func (s Spec) FlagSet(name string, defaults any) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	if s.FileFlag != "" {
		fs.String(s.FileFlag, "", s.FileHelp)
	}
	for _, o := range s.Options(defaults) {
		d := reflect.ValueOf(o.Default)
		switch {
		case o.Type == durationType:
			fs.Duration(o.Flag, time.Duration(d.Int()), o.Usage())
		case o.Type.Kind() == reflect.String:
			fs.String(o.Flag, d.String(), o.Usage())
		case o.Type.Kind() == reflect.Bool:
			fs.Bool(o.Flag, d.Bool(), o.Usage())
		case o.Type.Kind() == reflect.Int:
			fs.Int(o.Flag, int(d.Int()), o.Usage())
		case o.Type.Kind() == reflect.Int64:
			fs.Int64(o.Flag, d.Int(), o.Usage())
		case o.Type.Kind() == reflect.Uint64:
			fs.Uint64(o.Flag, d.Uint(), o.Usage())
		case o.Type.Kind() == reflect.Float64:
			fs.Float64(o.Flag, d.Float(), o.Usage())
		case o.Type.Kind() == reflect.Slice:
			fs.StringSlice(o.Flag, append([]string{}, d.Interface().([]string)...), o.Usage())
		}
	}
	return fs
}

// Load decodes into dst, a pointer to a struct holding the defaults: the
// YAML file named by the file flag (or its environment variable), then
// the environment variables, then the flags set on the command line. fs
// must come from FlagSet and be parsed. It does not validate.
func (s Spec) Load(dst any, fs *pflag.FlagSet, environ []string) error {
	opts := s.Options(dst)
	env := s.environment(environ)
	tree, err := s.readFile(fs, env)
	if err != nil {
		return err
	}
	for _, o := range opts {
		if v, ok := env[o.Env]; ok {
			setPath(tree, o.Key, v.val)
			delete(env, o.Env)
		}
	}
	if len(env) > 0 {
		names := make([]string, 0, len(env))
		for _, v := range env {
			names = append(names, v.name)
		}
		slices.Sort(names)
		return fmt.Errorf("environment variable %s: unknown option", names[0])
	}
	for _, o := range opts {
		f := fs.Lookup(o.Flag)
		if f == nil || !f.Changed {
			continue
		}
		if o.Type.Kind() == reflect.Slice {
			sl, _ := fs.GetStringSlice(o.Flag)
			setPath(tree, o.Key, sl)
		} else {
			setPath(tree, o.Key, f.Value.String())
		}
	}
	return decode(dst, tree)
}

// envVar is a variable as set (name) and its value.
type envVar struct{ name, val string }

// environment returns the variables with the prefixes, but those ignored,
// keyed by their name with EnvPrefix: one with EnvPrefix wins over the
// same with AltEnvPrefix.
func (s Spec) environment(environ []string) map[string]envVar {
	env := map[string]envVar{}
	for _, prefix := range []string{s.AltEnvPrefix, s.EnvPrefix} {
		if prefix == "" || s.EnvPrefix == "" {
			continue
		}
		for _, kv := range environ {
			k, val, ok := strings.Cut(kv, "=")
			if !ok || !strings.HasPrefix(k, prefix) {
				continue
			}
			if slices.ContainsFunc(s.IgnoreEnv, func(p string) bool { return strings.HasPrefix(k, p) }) {
				continue
			}
			env[s.EnvPrefix+strings.TrimPrefix(k, prefix)] = envVar{k, val}
		}
	}
	return env
}

// readFile returns the options of the YAML file named by the file flag, or
// else its environment variable (taken out of env), as nested maps.
func (s Spec) readFile(fs *pflag.FlagSet, env map[string]envVar) (map[string]any, error) {
	if s.FileFlag == "" {
		return map[string]any{}, nil
	}
	fileEnv := s.envName(s.FileFlag)
	file, _ := fs.GetString(s.FileFlag)
	if f, ok := env[fileEnv]; ok && !fs.Changed(s.FileFlag) {
		file = f.val
	}
	delete(env, fileEnv)
	if file == "" {
		return map[string]any{}, nil
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %s", file, oneLine(err))
	}
	switch m := lowerKeys(doc).(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return m, nil
	default:
		return nil, fmt.Errorf("config file %s: want a mapping of options, got %T", file, doc)
	}
}

// decode decodes tree into dst strictly: unknown keys, bare-number
// durations, fractions for integers are errors, reported on one line.
func decode(dst any, tree map[string]any) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           dst,
		ErrorUnused:      true,
		WeaklyTypedInput: true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			strictDurationHook,
			strictIntHook,
			commaSliceHook,
		),
	})
	if err != nil {
		return err
	}
	if err := dec.Decode(tree); err != nil {
		return fmt.Errorf("config: %s", oneLine(err))
	}
	return nil
}

// lowerKeys turns YAML mappings into map[string]any with lower-case keys
// (keys are case-insensitive, as with viper before).
func lowerKeys(v any) any {
	switch m := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[strings.ToLower(k)] = lowerKeys(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[strings.ToLower(fmt.Sprint(k))] = lowerKeys(x)
		}
		return out
	case []any:
		for i := range m {
			m[i] = lowerKeys(m[i])
		}
	}
	return v
}

// setPath sets tree[a][b][c] for the key "a.b.c", replacing what is in
// the way.
func setPath(tree map[string]any, key string, val any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := tree[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			tree[p] = next
		}
		tree = next
	}
	tree[parts[len(parts)-1]] = val
}

// oneLine joins the decoder's error list into one line: "'poll.interval'
// msg" reads as "poll.interval: msg".
func oneLine(err error) string {
	msg := strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):")
	var parts []string
	for _, line := range strings.Split(msg, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if key, rest, ok := strings.Cut(strings.TrimPrefix(line, "'"), "' "); ok && strings.HasPrefix(line, "'") && key != "" {
				line = key + ": " + rest
			}
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// Check reports the first option of v (a pointer to a struct) whose value
// is outside its range tag or not one of its oneof tag, naming it prefix +
// its key. Lists of structs are not descended into: check their elements
// with a prefix such as "clusters[0].".
func Check(v any, prefix string) error {
	var out []Option
	rv := reflect.ValueOf(v)
	Spec{}.walk(rv.Elem(), nil, nil, "", &out)
	for _, o := range out {
		f := rv.Elem().FieldByIndex(o.index)
		if o.OneOf != nil && !slices.Contains(o.OneOf, f.String()) {
			return fmt.Errorf("%s%s %q: want %s", prefix, o.Key, f.String(), listOr(o.OneOf))
		}
		if o.Range == nil {
			continue
		}
		var n int64
		switch f.Kind() {
		case reflect.Uint64:
			n = int64(min(f.Uint(), 1<<63-1))
		default:
			n = f.Int()
		}
		if err := o.Range.Check(prefix+o.Key, n); err != nil {
			return err
		}
	}
	return nil
}

// listOr writes "a, b or c".
func listOr(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

// FillZero gives the fields of dst (a pointer to a struct) whose value is
// zero and zero is not valid for them (outside their range or oneof tag,
// or an empty string) the value in defaults: a library's zero-value
// Options get the defaults of its Config, while a 0 that means something
// ("0: no budget") is kept.
func FillZero(dst, defaults any) {
	var out []Option
	d := reflect.ValueOf(dst).Elem()
	def := reflect.ValueOf(defaults)
	if def.Kind() == reflect.Pointer {
		def = def.Elem()
	}
	Spec{}.walk(d, nil, nil, "", &out)
	for _, o := range out {
		f := d.FieldByIndex(o.index)
		if !f.IsZero() {
			continue
		}
		zeroValid := o.Range != nil && o.Range.Contains(0) || o.OneOf != nil && slices.Contains(o.OneOf, "")
		if o.Range == nil && o.OneOf == nil && f.Kind() != reflect.String {
			zeroValid = true // a bool, a list: zero is a value
		}
		if !zeroValid {
			f.Set(def.FieldByIndex(o.index))
		}
	}
}

// Inherit fills the fields of dst (a pointer to a struct) that are zero
// with those of parent (the same struct type), except fields tagged
// inherit:"no"; a struct field (a TLS block) is inherited whole when it is
// entirely zero.
func Inherit(dst, parent any) {
	d, p := reflect.ValueOf(dst).Elem(), reflect.ValueOf(parent)
	if p.Kind() == reflect.Pointer {
		p = p.Elem()
	}
	if d.Type() != p.Type() {
		panic("settings: Inherit between different types")
	}
	for i := range d.NumField() {
		if d.Type().Field(i).Tag.Get("inherit") == "no" || !d.Type().Field(i).IsExported() {
			continue
		}
		if d.Field(i).IsZero() {
			d.Field(i).Set(p.Field(i))
		}
	}
}

// ExampleMismatches compares an example YAML file (raw, decoded into
// shipped over the defaults) with the options of defaults, as --help shows
// them: every option must be in the file, with its default unless listed in
// notDefault (key: why), and, when it has a range, with the range text in
// the line's comment. It returns one message per mismatch.
func (s Spec) ExampleMismatches(defaults, shipped any, raw []byte, notDefault map[string]string) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) == 0 {
		return []string{fmt.Sprintf("not YAML: %v", err)}
	}
	var out []string
	for _, o := range s.Options(defaults) {
		key, val := lookupNode(doc.Content[0], strings.Split(o.Key, "."))
		if key == nil {
			out = append(out, fmt.Sprintf("%s: in --help (--%s) but not in the example", o.Key, o.Flag))
			continue
		}
		got, want := o.Get(shipped), o.Get(defaults)
		if why, ok := notDefault[o.Key]; ok {
			if reflect.DeepEqual(got, want) {
				out = append(out, fmt.Sprintf("%s: listed as shipped other than its default (%s), but it is the default", o.Key, why))
			}
		} else if !reflect.DeepEqual(got, want) {
			out = append(out, fmt.Sprintf("%s: the example says %v (line %d), --help's default is %v", o.Key, got, key.Line, want))
		}
		if o.Range != nil && !strings.Contains(key.LineComment+val.LineComment, o.Range.Text()) {
			out = append(out, fmt.Sprintf("%s (line %d): the comment %q does not state the range of --help, %q",
				o.Key, key.Line, key.LineComment+val.LineComment, o.Range.Text()))
		}
	}
	return out
}

// lookupNode finds the key and value nodes of a path in a YAML mapping.
func lookupNode(m *yaml.Node, path []string) (*yaml.Node, *yaml.Node) {
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
		return lookupNode(m.Content[i+1], path[1:])
	}
	return nil, nil
}
