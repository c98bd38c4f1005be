package exporter

import (
	"fmt"
	"regexp"
)

// NewFilter compiles allow and deny regular expressions into a predicate
// that selects names (groups or topics); what names the bad expression in
// the error. Expressions are anchored (they must match the whole name, as
// in Prometheus relabelling). An empty allow list allows everything; deny
// wins over allow.
func NewFilter(what string, allow, deny []string) (func(name string) bool, error) {
	var f filter
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
	return f.match, nil
}

// filter is a compiled NewFilter.
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
