package exporter

import (
	"slices"
	"testing"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
)

func TestMergeExpected(t *testing.T) {
	configured := []expiry.ExpectedGroup{
		{Group: "cfg-only", StartingPosition: result.StartEarliest, Topics: []string{"a"}},
		{Group: "both-fixed", StartingPosition: result.StartEarliest, Topics: []string{"a"}},
		{Group: "both-open", Topics: []string{"a"}},
	}
	esm := func(group string, pos result.StartingPosition, uuid string, topics ...string) expiry.ExpectedGroup {
		return expiry.ExpectedGroup{Group: group, StartingPosition: pos, Topics: topics,
			Lambda: []result.LambdaESM{{UUID: uuid, State: "Disabled", StartingPosition: pos}}}
	}
	runtime := []expiry.ExpectedGroup{
		esm("both-fixed", result.StartLatest, "1", "b"),
		esm("both-open", result.StartLatest, "2", "a", "b"),
		esm("esm-only", result.StartLatest, "3", "c"),
		esm("two-esms", result.StartLatest, "4", "c"),
		esm("two-esms", result.StartEarliest, "5", "d"),
	}
	got := mergeExpected(configured, runtime)
	if len(configured[1].Topics) != 1 || configured[1].Lambda != nil {
		t.Fatalf("configured groups modified: %+v", configured)
	}
	byName := map[string]expiry.ExpectedGroup{}
	for _, g := range got {
		byName[g.Group] = g
	}
	for _, c := range []struct {
		group  string
		pos    result.StartingPosition
		topics []string
		uuids  []string
	}{
		{"cfg-only", result.StartEarliest, []string{"a"}, nil},
		{"both-fixed", result.StartEarliest, []string{"a", "b"}, []string{"1"}}, // the configured position wins
		{"both-open", result.StartLatest, []string{"a", "b"}, []string{"2"}},    // the mapping fills it in
		{"esm-only", result.StartLatest, []string{"c"}, []string{"3"}},
		{"two-esms", "", []string{"c", "d"}, []string{"4", "5"}}, // disagreeing mappings: unknown
	} {
		g := byName[c.group]
		var uuids []string
		for _, l := range g.Lambda {
			uuids = append(uuids, l.UUID)
		}
		if g.StartingPosition != c.pos || !slices.Equal(g.Topics, c.topics) || !slices.Equal(uuids, c.uuids) {
			t.Errorf("%s = %+v, want %s %v %v", c.group, g, c.pos, c.topics, c.uuids)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d groups, want 5", len(got))
	}
	if out := mergeExpected(configured, nil); len(out) != 3 {
		t.Error("nil runtime")
	}
}
