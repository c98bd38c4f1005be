package exporter

import (
	"fmt"
	"regexp"
)

// Filter selects names (groups or topics) by allow and deny regular
// expressions. Expressions are anchored (they must match the whole name,
// as in Prometheus relabelling). An empty allow list allows everything;
// deny wins over allow.
type Filter struct {
	allow, deny []*regexp.Regexp
}

// NewFilter compiles the expressions; what names the bad one.
func NewFilter(what string, allow, deny []string) (*Filter, error) {
	f := &Filter{}
	for _, list := range []struct {
		name string
		src  []string
		dst  *[]*regexp.Regexp
	}{{"allow", allow, &f.allow}, {"deny", deny, &f.deny}} {
		for _, s := range list.src {
			re, err := regexp.Compile("^(?:" + s + ")$")
			if err != nil {
				return nil, fmt.Errorf("%s %s regex %q: %w", what, list.name, s, err)
			}
			*list.dst = append(*list.dst, re)
		}
	}
	return f, nil
}

// Match reports whether name passes the filter. A nil Filter passes all.
func (f *Filter) Match(name string) bool {
	if f == nil {
		return true
	}
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
