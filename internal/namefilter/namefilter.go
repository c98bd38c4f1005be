package namefilter

import (
	"fmt"
	"regexp"
)

// Config is a pair of anchored regular expression lists. The tags declare
// the groups.* and topics.* options; {what} is the help tag of the field
// holding the Config ("consumer groups", "topics").
type Config struct {
	Allow []string `mapstructure:"allow" help:"only export {what} matching one of these anchored regular expressions (default: all)"`
	Deny  []string `mapstructure:"deny" help:"never export {what} matching one of these anchored regular expressions (wins over allow)"`
}

// SetDefaults sets empty lists: every name passes.
func (c *Config) SetDefaults() { c.Allow, c.Deny = []string{}, []string{} }

// Compile compiles the lists into a predicate that selects names; what
// names the bad expression in the error ("groups allow regex ..."). Expressions
// are anchored (they must match the whole name, as in Prometheus
// relabelling). An empty allow list allows everything; deny wins over
// allow. A Config is valid when it compiles.
func (c Config) Compile(what string) (func(name string) bool, error) {
	var f filter
	for _, list := range []struct {
		name string
		src  []string
		dst  *[]*regexp.Regexp
	}{{"allow", c.Allow, &f.allow}, {"deny", c.Deny, &f.deny}} {
		for _, s := range list.src {
			re, err := regexp.Compile("^(?:" + s + ")$")
			if err != nil {
				return nil, fmt.Errorf("%s %s regex %q: %w", what, list.name, s, err)
			}
			*list.dst = append(*list.dst, re)
		}
	}
	return f.match, nil
}

// filter is a compiled Config.
type filter struct {
	allow, deny []*regexp.Regexp
}

// match reports whether name passes the filter.
func (f *filter) match(name string) bool {
	for _, re := range f.deny {
		if re.MatchString(name) {
			return false
		}
	}
	if len(f.allow) == 0 {
		return true
	}
	for _, re := range f.allow {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}
