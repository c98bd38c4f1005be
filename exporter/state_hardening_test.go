package exporter

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
)

// A save that keeps failing is logged once, with a text that does not
// change from one attempt to the next (no temporary file name), and once
// more when it works again.
func TestStateSaveFailureLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	store, err := expiry.NewStateStore(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "offsetlag-state.json")
	// A non-empty directory where the state file should be: every rename
	// over it fails.
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	e1 := store.Save(map[string]*expiry.ExpiryState{}, expT0)
	e2 := store.Save(map[string]*expiry.ExpiryState{}, expT0)
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() || strings.Contains(e1.Error(), ".tmp") {
		t.Fatalf("save errors %v / %v: want two identical errors without the temporary file's name", e1, e2)
	}

	clock := expT0
	src := &fakeSource{name: "c"}
	e, err := New([]Source{src}, Options{Config: Config{Interval: time.Second}, Logger: log, State: store, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	// New loaded the state (and would move a directory aside): block the
	// saves again.
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	poll := func(offset int64) {
		t.Helper()
		s := withGroup(testSnapshot())
		s.Groups[0].Offsets[0].Offset = offset
		src.set(s, nil)
		clock = clock.Add(stateSaveEvery + time.Second)
		e.PollAll(context.Background())
	}
	for i := range 5 {
		poll(int64(10 + i)) // a new commit each poll: the state is dirty
	}
	if n := strings.Count(logs.String(), "cannot save the expiry state"); n != 1 {
		t.Fatalf("%d save warnings over 5 failing saves, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), ".tmp") {
		t.Errorf("log names the temporary file:\n%s", logs.String())
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	poll(20)
	poll(21)
	if n := strings.Count(logs.String(), "expiry state saved again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, logs.String())
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("state not written after recovery: %v", err)
	}
}
