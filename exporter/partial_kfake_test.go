package exporter_test

// Honest partial data and no conclusions from a degraded answer (issue 15),
// on an in-process cluster (kfake): a coordinator that answers without a
// group (a broker shutting down or still loading it) never makes its
// commits "deleted" or "expired" and never drops its series; a hung broker
// costs only what it owns, carried for at most poll.stale-after.

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// verdictLines returns the log lines that conclude commits were deleted or
// expired.
func verdictLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "committed offsets deleted") || strings.Contains(l, "committed offsets expired") {
			out = append(out, l)
		}
	}
	return out
}

// TestFaultCoordinatorAnswersWithoutGroup reproduces the e2e broker
// restart: for one poll the group's coordinator lists no group at all (a
// broker shutting down), then for one poll the group's coordinator moves
// and the new one answers OffsetFetch without any commit of it (not loaded
// yet). Every poll is complete (up 1), yet nothing may be concluded: 0
// "deleted" or "expired" verdicts in the log and in /metrics, and the
// group's lag series on every poll. A real deletion is still concluded
// (DeleteGroups: two polls agree).
func TestFaultCoordinatorAnswersWithoutGroup(t *testing.T) {
	var logs testenv.LockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r := newFaultRig(t, exporter.Options{Logger: logger})
	r.commit("h", "t", map[int32]int64{0: 1, 1: 1})

	var emptyListFrom, emptyFetchFor atomic.Int32
	emptyListFrom.Store(-1)
	var listHits, fetchHits atomic.Int32
	r.c.ControlKey(int16(kmsg.ListGroups), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r.c.KeepControl()
		if r.c.CurrentNode() != emptyListFrom.Load() {
			return nil, nil, false
		}
		listHits.Add(1)
		resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
		resp.SetVersion(req.GetVersion())
		return resp, nil, true // no error, no group: a broker unloading its groups
	})
	r.c.ControlKey(int16(kmsg.OffsetFetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r.c.KeepControl()
		if emptyFetchFor.Load() == 0 {
			return nil, nil, false
		}
		of := req.(*kmsg.OffsetFetchRequest)
		hasG := false
		for _, g := range of.Groups {
			hasG = hasG || g.Group == "g"
		}
		if !hasG && of.Group != "g" {
			return nil, nil, false
		}
		fetchHits.Add(1)
		resp := of.ResponseKind().(*kmsg.OffsetFetchResponse)
		resp.SetVersion(of.GetVersion())
		for _, rg := range of.Groups {
			g := kmsg.NewOffsetFetchResponseGroup()
			g.Group = rg.Group
			if rg.Group != "g" {
				g.ErrorCode = kerr.CoordinatorLoadInProgress.Code
			}
			resp.Groups = append(resp.Groups, g)
		}
		return resp, nil, true // g answered without any commit
	})

	polls, up, lostSeries := 0, 0, 0
	poll := func(step string) result.ClusterResult {
		t.Helper()
		cr, _ := r.poll()
		polls++
		if cr.Up {
			up++
		}
		if len(r.seriesWith("offsetlag_consumergroup_lag{", `group="g"`)) != 4 {
			lostSeries++
			t.Errorf("%s: lag series of g: %v, want 4", step, r.seriesWith("offsetlag_consumergroup_lag{", `group="g"`))
		}
		if s := r.seriesWith("offsetlag_consumergroup_offsets_expired", `group="g"`); len(s) != 1 {
			t.Errorf("%s: expired series of g: %v", step, s)
		}
		for _, smp := range r.samples() {
			if strings.HasPrefix(smp.series, "offsetlag_consumergroup_offsets_expired") && smp.value != 0 {
				t.Errorf("%s: %s = %v", step, smp.series, smp.value)
			}
		}
		return cr
	}
	r.pollUntilUp()
	poll("baseline")

	// 1. g's coordinator lists no group (complete poll, g absent).
	coord := r.c.CoordinatorFor("g")
	emptyListFrom.Store(coord)
	cr := poll("coordinator lists no group")
	emptyListFrom.Store(-1)
	if listHits.Load() == 0 {
		t.Fatal("the ListGroups hook never answered")
	}
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil {
		t.Errorf("g not listed for one poll: %v (want the carried lag)", err)
	}
	poll("coordinator lists the group again")

	// 2. g's coordinator moves and the new one answers without its commits.
	for i := 0; i < 20 && r.c.CoordinatorFor("g") == coord; i++ {
		r.c.RehashCoordinators()
	}
	if r.c.CoordinatorFor("g") == coord {
		t.Fatalf("coordinator of g stayed %d after 20 rehashes", coord)
	}
	emptyFetchFor.Store(1)
	cr = poll("new coordinator answers without commits")
	emptyFetchFor.Store(0)
	if fetchHits.Load() == 0 {
		t.Fatal("the OffsetFetch hook never answered")
	}
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil {
		t.Errorf("g answered without commits: %v (want the carried lag)", err)
	}
	r.produce("t", 0, 3)
	cr = poll("after")
	if err := r.wantLag(cr, "g", "t", r.gLag()); err != nil || !cr.Up {
		t.Errorf("after the degraded answers: up %v, %v", cr.Up, err)
	}
	falseVerdicts := verdictLines(logs.String())
	if len(falseVerdicts) != 0 {
		t.Errorf("verdicts from degraded answers: %q", falseVerdicts)
	}

	// A real deletion is still concluded, by two polls that agree.
	resp, err := r.c.Admin.DeleteGroups(r.ctx, "h")
	if err != nil || resp.Error() != nil {
		t.Fatalf("delete group: %v %v", err, resp.Error())
	}
	r.poll()
	cr, _ = r.poll()
	if _, ok := resulttest.Group(&cr, "h"); ok || len(r.seriesWith(`group="h"`)) != 0 {
		t.Errorf("deleted group h still served two polls after DeleteGroups")
	}
	deleted := verdictLines(logs.String())
	if len(deleted) != 1 || !strings.Contains(deleted[0], "group=h") {
		t.Errorf("verdicts after DeleteGroups of h: %q, want one deletion of h", deleted)
	}
	reliabilityRow(t, "coordinator answers without the group for one poll (ListGroups lists none; then the coordinator moves and answers OffsetFetch without commits), as a broker restarting does",
		"nothing concluded: 0 false deleted/expired verdicts, no series dropped; a real DeleteGroups still concluded",
		fmt.Sprintf("%d polls, %d up; %d false verdicts in the log, expired series 0 on every poll; g's 4 lag series kept on %d of %d polls; DeleteGroups of h concluded once, after 2 polls",
			polls, up, len(falseVerdicts), polls-lostSeries, polls))
}
