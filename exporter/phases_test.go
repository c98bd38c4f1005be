package exporter

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
)

// tickingClock advances by a second at every reading, so that every part
// of a poll takes a known, non-zero time.
type tickingClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// TestPollDurationCoversTheWholePoll: the poll duration runs from the first
// request to the end of the math, the phases add up to it (the exact
// time-lag read counted as record_times, not as trends), and a poll longer
// than the interval is logged as a warning.
func TestPollDurationCoversTheWholePoll(t *testing.T) {
	src := &timedSource{fakeSource: fakeSource{name: "c"}}
	src.set(withGroup(testSnapshot()), nil)
	clock := &tickingClock{now: at(600)}
	var logs bytes.Buffer
	e, err := New([]Source{src}, Options{Config: pollEvery(3*time.Second, 0), Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := resulttest.Cluster(e.PollAll(context.Background()), "c")
	if src.asked == 0 {
		t.Fatal("no exact read: the poll does not exercise record_times")
	}
	var names []string
	var sum time.Duration
	byName := map[string]time.Duration{}
	for _, p := range c.PollPhases {
		names = append(names, p.Phase)
		sum += p.Duration
		byName[p.Phase] = p.Duration
		if p.Duration < 0 {
			t.Errorf("phase %s: %s", p.Phase, p.Duration)
		}
	}
	if got := strings.Join(names, ","); got != "requests,lag,expiry,trends,record_times" {
		t.Fatalf("phases %s", got)
	}
	if sum != c.PollDuration {
		t.Errorf("phases add up to %s, poll duration %s", sum, c.PollDuration)
	}
	if byName["requests"] != time.Second || byName["record_times"] != time.Second {
		t.Errorf("requests %s and record_times %s, want one tick each", byName["requests"], byName["record_times"])
	}
	if c.PollDuration <= byName["requests"]+byName["record_times"] {
		t.Errorf("poll duration %s does not include the math", c.PollDuration)
	}
	if c.PollDuration <= 3*time.Second || !strings.Contains(logs.String(), "poll took longer than the poll interval") {
		t.Errorf("a %s poll with a 3s interval logged no warning:\n%s", c.PollDuration, logs.String())
	}

	// A failed poll has only its requests.
	src.set(nil, context.DeadlineExceeded)
	logs.Reset()
	c, _ = resulttest.Cluster(e.PollAll(context.Background()), "c")
	if len(c.PollPhases) != 1 || c.PollPhases[0].Phase != "requests" || c.PollDuration != c.PollPhases[0].Duration {
		t.Errorf("failed poll: duration %s, phases %+v", c.PollDuration, c.PollPhases)
	}
	if strings.Contains(logs.String(), "longer than the poll interval") {
		t.Errorf("a 1s poll with a 3s interval warned:\n%s", logs.String())
	}
}
