package exporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// logRecorder collects log records as decoded JSON lines.
type logRecorder struct{ testenv.LockedBuffer }

func (l *logRecorder) records(t *testing.T, minLevel slog.Level) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(m["level"].(string))); err != nil {
			t.Fatal(err)
		}
		if lv >= minLevel {
			out = append(out, m)
		}
	}
	return out
}

func newLogRecorder() (*logRecorder, *slog.Logger) {
	l := &logRecorder{}
	return l, slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// An outage of 30 polls whose failed requests come back in a different
// order, with different error texts (local ports), every poll: one Warn
// when it starts, one Info with the count and duration when it clears.
func TestFailureLoggedOncePerChange(t *testing.T) {
	rec, logger := newLogRecorder()
	src := &fakeSource{name: "c"}
	now := at(0)
	e, err := New([]Source{src}, Options{Config: pollEvery(time.Second, 0), Logger: logger, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	poll := func(s *kafkaadmin.Snapshot, err error) result.ClusterResult {
		now = now.Add(time.Second)
		src.set(s, err)
		c, _ := resulttest.Cluster(e.PollAll(ctx), "c")
		return *c
	}
	poll(withGroup(testSnapshot()), nil)
	var texts []string
	for i := 0; i < 30; i++ {
		s := withGroup(testSnapshot())
		a := kafkaadmin.RequestError{API: "ListGroups", Broker: 2, Err: fmt.Errorf("read tcp 127.0.0.1:%d->127.0.0.1:9092: i/o timeout", 40000+i)}
		b := kafkaadmin.RequestError{API: "ListOffsets", Broker: 2, Err: errors.New("context deadline exceeded")}
		s.Errors = []kafkaadmin.RequestError{a, b}
		if i%2 == 1 {
			s.Errors = []kafkaadmin.RequestError{b, a}
		}
		c := poll(s, nil)
		if c.Up {
			t.Fatal("partial poll up")
		}
		texts = append(texts, c.LastError)
	}
	// The text is in a stable order (only the local port differs).
	if !strings.HasPrefix(texts[1], "2 requests failed: ListGroups to broker 2: ") || !strings.Contains(texts[1], "; ListOffsets to broker 2: context deadline exceeded") {
		t.Errorf("failure text %q not in a stable order", texts[1])
	}
	if c := poll(withGroup(testSnapshot()), nil); !c.Up {
		t.Fatal("not up after the outage")
	}
	recs := rec.records(t, slog.LevelInfo)
	var warns, infos []string
	for _, r := range recs {
		switch r["level"] {
		case "WARN":
			warns = append(warns, r["msg"].(string))
		case "INFO":
			infos = append(infos, r["msg"].(string))
			if r["failed_polls"] != float64(30) || r["outage"] != float64(30*time.Second) {
				t.Errorf("recovery line %v: want failed_polls 30, outage 30s (first failed poll to recovery)", r)
			}
		}
	}
	if len(warns) != 1 || len(infos) != 1 {
		t.Fatalf("30 failed polls logged %d Warn %q and %d Info %q lines, want 1 and 1", len(warns), warns, len(infos), infos)
	}
	if want := "poll succeeded again after 30 failed polls over 30s"; infos[0] != want {
		t.Errorf("recovery line %q, want %q", infos[0], want)
	}
}

// A failure that changes (another broker fails, or nothing answers at all)
// is logged again; so is a new outage after a recovery.
func TestFailureLoggedAgainWhenItChanges(t *testing.T) {
	rec, logger := newLogRecorder()
	src := &fakeSource{name: "c"}
	e, err := New([]Source{src}, Options{Config: pollEvery(time.Second, 0), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	part := func(broker int32) *kafkaadmin.Snapshot {
		s := withGroup(testSnapshot())
		s.Errors = []kafkaadmin.RequestError{{API: "ListGroups", Broker: broker, Err: errors.New("timeout")}}
		return s
	}
	for _, step := range []struct {
		snap *kafkaadmin.Snapshot
		err  error
	}{
		{part(1), nil}, {part(1), nil}, // Warn
		{part(2), nil}, // Warn: another broker
		{nil, errors.New("dial tcp 127.0.0.1:9092: refused")},     // Warn: nothing answers
		{nil, errors.New("dial tcp 127.0.0.1:9092: i/o timeout")}, // same
		{withGroup(testSnapshot()), nil},                          // Info
		{part(1), nil},                                            // Warn: a new outage
	} {
		src.set(step.snap, step.err)
		e.PollAll(ctx)
	}
	var levels []string
	for _, r := range rec.records(t, slog.LevelInfo) {
		levels = append(levels, r["level"].(string))
	}
	if got := strings.Join(levels, " "); got != "WARN WARN WARN INFO WARN" {
		t.Errorf("log levels %q, want WARN WARN WARN INFO WARN", got)
	}
}

// Broker health: a broker is down when any request to it failed; a failed
// bootstrap address (-1) names no broker; a broker that failed but is not
// in the metadata is still reported.
func TestBrokerHealth(t *testing.T) {
	snap := &kafkaadmin.Snapshot{
		Brokers: []kafkaadmin.Broker{{ID: 3}, {ID: 1}},
		Errors: []kafkaadmin.RequestError{
			{API: "ListOffsets", Broker: 3, Err: errors.New("timeout")},
			{API: "ListGroups", Broker: 3, Err: errors.New("timeout")},
			{API: "ListOffsets", Broker: 3, Err: errors.New("timeout")},
			{API: "Metadata", Broker: -1, Err: errors.New("refused")},
			{API: "OffsetFetch", Broker: 7, Err: errors.New("timeout")},
		},
	}
	got := fmt.Sprint(brokerHealth(snap, nil))
	want := "[{1 true []} {3 false [ListGroups ListOffsets]} {7 false [OffsetFetch]}]"
	if got != want {
		t.Errorf("broker health %s, want %s", got, want)
	}
	if got := fmt.Sprint(brokerHealth(nil, brokerHealth(snap, nil))); got != "[{1 false [Metadata]} {3 false [Metadata]} {7 false [Metadata]}]" {
		t.Errorf("broker health after a poll that read nothing: %s", got)
	}
}
