package exporter

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// Poll failures are logged once per change, not once per poll: an outage
// of a hundred polls is one Warn line when it starts and one Info line,
// with the count and the duration, when it clears.
//
// Two failures are "the same" when they have the same key: the sorted set
// of "API to broker N" that failed for a partial poll, or "no answer" for
// a poll that read nothing. The error texts are not part of the key: they
// carry local ports and timings ("read tcp 127.0.0.1:52712->...: i/o
// timeout") that differ on every poll of one outage.

// describeFailure returns the failure text of a poll (empty when it
// succeeded), built in a stable order, and its key.
func describeFailure(err error, snap *kafkaadmin.Snapshot) (text, key string) {
	switch {
	case err != nil:
		return err.Error(), "no answer"
	case snap == nil || snap.Complete():
		return "", ""
	}
	errs := slices.Clone(snap.Errors)
	slices.SortFunc(errs, func(a, b kafkaadmin.RequestError) int {
		if c := strings.Compare(a.API, b.API); c != 0 {
			return c
		}
		if a.Broker != b.Broker {
			return int(a.Broker) - int(b.Broker)
		}
		return strings.Compare(a.Err.Error(), b.Err.Error())
	})
	msgs := make([]string, len(errs))
	keys := make([]string, 0, len(errs))
	for i, re := range errs {
		msgs[i] = re.Error()
		k := re.API + " to broker " + strconv.Itoa(int(re.Broker))
		if len(keys) == 0 || keys[len(keys)-1] != k {
			keys = append(keys, k)
		}
	}
	return fmt.Sprintf("%d requests failed: %s", len(errs), strings.Join(msgs, "; ")), strings.Join(keys, ", ")
}

// failureLog is one cluster's ongoing failure. Guarded by Exporter.mu.
type failureLog struct {
	key   string    // empty while polls succeed
	since time.Time // end of the first failed poll of the run
	polls int       // failed polls in the run
}

// failureNote is what a poll has to log.
type failureNote struct {
	kind    failureNoteKind
	text    string
	polls   int
	outage  time.Duration
	changed bool // the failure changed while failing (not a new run)
}

type failureNoteKind int

const (
	noteNone failureNoteKind = iota
	noteFailed
	noteRecovered
)

// observe records a poll's failure (text empty: success) and says what to
// log: a Warn when a failure starts or its key changes, an Info when it
// clears, nothing else.
func (f *failureLog) observe(text, key string, at time.Time) failureNote {
	switch {
	case text == "" && f.key == "":
		return failureNote{}
	case text == "":
		n := failureNote{kind: noteRecovered, polls: f.polls, outage: at.Sub(f.since)}
		*f = failureLog{}
		return n
	case f.key == "":
		*f = failureLog{key: key, since: at, polls: 1}
		return failureNote{kind: noteFailed, text: text, polls: 1}
	}
	f.polls++
	if key == f.key {
		return failureNote{}
	}
	f.key = key
	return failureNote{kind: noteFailed, text: text, polls: f.polls, changed: true}
}

func (n failureNote) log(log *slog.Logger, cr result.ClusterResult) {
	switch n.kind {
	case noteFailed:
		msg := "poll failed; serving the last data read"
		if n.changed {
			msg = "poll failure changed; serving the last data read"
		}
		log.Warn(msg, "err", n.text, "failed_polls", n.polls, "duration", cr.PollDuration)
	case noteRecovered:
		log.Info(fmt.Sprintf("poll succeeded again after %d failed polls over %s", n.polls, n.outage.Round(time.Millisecond)),
			"failed_polls", n.polls, "outage", n.outage, "duration", cr.PollDuration, "groups", len(cr.Groups))
	default:
		log.Debug("poll done", "duration", cr.PollDuration, "groups", len(cr.Groups), "up", cr.Up, "err", cr.LastError)
	}
}

// brokerHealth derives each broker's health from a poll: down when a
// request to it failed. A poll that read nothing (snap nil) marks every
// broker known before down.
func brokerHealth(snap *kafkaadmin.Snapshot, prev []result.BrokerHealth) []result.BrokerHealth {
	if snap == nil {
		out := make([]result.BrokerHealth, len(prev))
		for i, b := range prev {
			out[i] = result.BrokerHealth{ID: b.ID, Failed: []string{"Metadata"}}
		}
		return out
	}
	byID := map[int32]*result.BrokerHealth{}
	for _, b := range snap.Brokers {
		byID[b.ID] = &result.BrokerHealth{ID: b.ID, Up: true}
	}
	for _, re := range snap.Errors {
		if re.Broker < 0 {
			continue // a bootstrap address, not a broker id
		}
		b := byID[re.Broker]
		if b == nil {
			b = &result.BrokerHealth{ID: re.Broker}
			byID[re.Broker] = b
		}
		b.Up = false
		if !slices.Contains(b.Failed, re.API) {
			b.Failed = append(b.Failed, re.API)
		}
	}
	out := make([]result.BrokerHealth, 0, len(byID))
	for _, b := range byID {
		slices.Sort(b.Failed)
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b result.BrokerHealth) int { return int(a.ID) - int(b.ID) })
	return out
}
