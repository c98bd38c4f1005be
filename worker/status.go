package worker

import (
	"sync"
	"time"
)

// State is where the worker is in its connection lifecycle.
type State int32

// States, in the order a healthy worker passes through them.
const (
	StateStarting   State = iota // Run not called yet
	StateConnecting              // no Kafka connection yet: bootstrap, metadata or producer retried with backoff
	StateJoining                 // connected; joining (or rejoining after an error or a rebalance) the consumer group
	StateConsuming               // a member of the group with a session: claimed partitions are consumed
	StateStopped                 // Run returned
)

func (s State) String() string {
	switch s {
	case StateStarting:
		return "starting"
	case StateConnecting:
		return "connecting"
	case StateJoining:
		return "joining"
	case StateConsuming:
		return "consuming"
	case StateStopped:
		return "stopped"
	}
	return "unknown"
}

// Status is a snapshot of the worker's connection state, for health
// endpoints and tests.
type Status struct {
	State      State
	Since      time.Time // when State was entered
	Connected  bool      // a Kafka client is up (joining or consuming)
	Partitions int       // partitions claimed in the current session
	Generation int32     // consumer group generation of the current session, 0 if none
	Sessions   int       // sessions started so far (a rebalance starts a new one)
	Attempts   int       // failed connection or join attempts since the last success
	LastError  string    // the error of the last failed attempt, "" after a success
}

// Ready reports whether the worker is consuming: it is a group member with
// a session (it may hold no partition when the group has more members than
// partitions).
func (s Status) Ready() bool { return s.State == StateConsuming }

// status holds the mutable Status behind a mutex; every transition is
// logged once and mirrored in the metrics.
type status struct {
	mu sync.Mutex
	s  Status
}

// Status returns the worker's current status.
func (w *Worker) Status() Status {
	w.st.mu.Lock()
	defer w.st.mu.Unlock()
	return w.st.s
}

// setState moves to state; a change is logged (Info, or Warn with err) and
// reflected in the factor_worker_kafka_connected and factor_worker_consuming
// gauges. A repeated failure in the same state is counted, not logged.
func (w *Worker) setState(state State, err error, attrs ...any) {
	w.st.mu.Lock()
	prev := w.st.s
	s := &w.st.s
	changed := s.State != state
	if changed {
		s.State, s.Since = state, w.now()
	}
	if err != nil {
		s.Attempts++
		s.LastError = err.Error()
	} else if state == StateJoining || state == StateConsuming {
		s.Attempts, s.LastError = 0, ""
	}
	s.Connected = state == StateJoining || state == StateConsuming
	w.st.mu.Unlock()

	w.metrics.Connected.Set(b2f(state == StateJoining || state == StateConsuming))
	w.metrics.Consuming.Set(b2f(state == StateConsuming))
	if !changed {
		return
	}
	attrs = append(attrs, "from", prev.State.String(), "to", state.String(), "group", w.cfg.Group)
	if !prev.Since.IsZero() {
		attrs = append(attrs, "after", w.now().Sub(prev.Since).Round(time.Millisecond))
	}
	if err != nil {
		w.log.Warn("kafka state: "+state.String(), append(attrs, "err", err)...)
		return
	}
	w.log.Info("kafka state: "+state.String(), attrs...)
}

// setSession records the session's claims (Setup) or their release (Cleanup).
func (w *Worker) setSession(partitions int, generation int32, started bool) {
	w.st.mu.Lock()
	w.st.s.Partitions, w.st.s.Generation = partitions, generation
	if started {
		w.st.s.Sessions++
	}
	w.st.mu.Unlock()
	w.metrics.Claimed.Set(float64(partitions))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
