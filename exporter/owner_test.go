package exporter

import (
	"context"
	"sync"
	"testing"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
)

// lossOwner owns the groups in owned; lose drops one and reports the loss
// through the function the exporter registered (Owner.OnLoss), as
// ha.Member does when its shards move.
type lossOwner struct {
	mu    sync.Mutex
	owned map[string]bool
	lost  func()
}

func (o *lossOwner) OwnsGroup(_, group string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.owned[group]
}
func (o *lossOwner) OwnsTopic(string, string) bool { return true }
func (o *lossOwner) OnLoss(lost func())            { o.lost = lost }

func (o *lossOwner) lose(group string) {
	o.mu.Lock()
	delete(o.owned, group)
	o.mu.Unlock()
	o.lost()
}

// TestOwnerLossRepublishes: when the Owner reports a loss, the exporter
// publishes its latest Result again at once, without the lost group, to
// Latest and to OnResult; no poll happens in between.
func TestOwnerLossRepublishes(t *testing.T) {
	src := &fakeSource{name: "c", snap: withGroup(testSnapshot())}
	o := &lossOwner{owned: map[string]bool{"g": true}}
	var published []*result.Result
	e, err := New([]Source{src}, Options{Owner: o, OnResult: func(r *result.Result) { published = append(published, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if o.lost == nil {
		t.Fatal("New did not register with the Owner (OnLoss)")
	}
	r := e.PollAll(context.Background())
	if c, _ := resulttest.Cluster(r, "c"); len(c.Groups) != 1 || len(published) != 1 {
		t.Fatalf("after a poll: groups %+v, %d published", c.Groups, len(published))
	}
	o.lose("g")
	if len(published) != 2 || published[1] != e.Latest() {
		t.Fatalf("after the loss: %d published, want the republished Result as the latest", len(published))
	}
	c, _ := resulttest.Cluster(e.Latest(), "c")
	if _, ok := resulttest.Group(c, "g"); ok || c.Polls != 1 {
		t.Errorf("after the loss: group g still published (%v) or a poll ran (polls %d)", ok, c.Polls)
	}
	if len(c.Topics) == 0 {
		t.Error("after the loss: the owned topics went too")
	}
}
