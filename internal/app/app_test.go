package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/internal/appconfig"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/mototest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// config loads the exporter configuration from command-line flags, as the
// binary does.
func config(t *testing.T, args ...string) *appconfig.Config {
	t.Helper()
	fs := appconfig.Flags("test")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := appconfig.Load(fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// cluster starts an in-process cluster with topic t (3 partitions, 10
// records each) and group g committed on it.
func cluster(t *testing.T) *kfaketest.Cluster {
	t.Helper()
	c := kfaketest.New(t, kfake.SeedTopics(3, "t"))
	for p := range int32(3) {
		c.Produce(t, "t", p, 10)
	}
	c.Commit(t, "g", "t", map[int32]int64{0: 3, 1: 3, 2: 3})
	return c
}

// noLeaks returns a check that no goroutine started since remains
// (sarama's go-metrics meters share one process-wide ticker; the in-process
// cluster's own connection goroutines end when it notices a client's close,
// which a client's own goroutines would not hide).
func noLeaks(t *testing.T) func() {
	before := goleak.IgnoreCurrent()
	return func() {
		goleak.VerifyNone(t, before, goleak.IgnoreTopFunction("github.com/rcrowley/go-metrics.(*meterArbiter).tick"),
			goleak.IgnoreAnyFunction("github.com/twmb/franz-go/pkg/kfake.(*clientConn).read"),
			// read's closure reading one request (the same connection).
			goleak.IgnoreAnyFunction("github.com/twmb/franz-go/pkg/kfake.(*clientConn).read.func1"),
			goleak.IgnoreAnyFunction("github.com/twmb/franz-go/pkg/kfake.(*clientConn).write"))
	}
}

// events is an ordered record of what happened: polls starting and
// returning, Kafka clients closing, components starting and stopping.
type events struct {
	mu   sync.Mutex
	list []string
	// inFlight counts polls started and not returned.
	inFlight int
	// polled is signalled at every returned poll.
	polled chan struct{}
	// closed is closed when a Kafka client closes.
	closed     chan struct{}
	closedOnce sync.Once
}

func newEvents() *events {
	return &events{polled: make(chan struct{}, 1000), closed: make(chan struct{})}
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, fmt.Sprintf(format, args...))
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.list, ", ")
}

func (e *events) index(ev string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, x := range e.list {
		if x == ev {
			return i
		}
	}
	return -1
}

func (e *events) lastIndex(prefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.list) - 1; i >= 0; i-- {
		if strings.HasPrefix(e.list[i], prefix) {
			return i
		}
	}
	return -1
}

// recorder is the real Kafka client as the exporter sees it, recording
// each poll's start and end. When hold is set, a poll that starts waits,
// after its context ends, until a Kafka client was closed or a second
// passed: a poll slow to notice the shutdown, which a client closed under
// it would break.
type recorder struct {
	*kafkaadmin.Client
	ev   *events
	hold *atomic.Bool
	held chan struct{} // receives when a held poll is in flight
}

func (r recorder) Snapshot(ctx context.Context) (*kafkaadmin.Snapshot, error) {
	r.ev.mu.Lock()
	r.ev.inFlight++
	r.ev.list = append(r.ev.list, "poll start")
	r.ev.mu.Unlock()
	defer func() {
		r.ev.mu.Lock()
		r.ev.inFlight--
		r.ev.list = append(r.ev.list, "poll end")
		r.ev.mu.Unlock()
		r.ev.polled <- struct{}{}
	}()
	snap, err := r.Client.Snapshot(ctx)
	if r.hold.Load() {
		select {
		case r.held <- struct{}{}:
		default:
		}
		<-ctx.Done()
		select {
		case <-r.ev.closed:
		case <-time.After(time.Second):
		}
	}
	return snap, err
}

// component records its Start and Stop and can fail.
type component struct {
	name string
	ev   *events
	fail chan error
}

func (c *component) Name() string { return c.name }
func (c *component) Start(context.Context) error {
	c.ev.add("start %s", c.name)
	return nil
}
func (c *component) Stop(context.Context) error {
	c.ev.mu.Lock()
	defer c.ev.mu.Unlock()
	c.ev.list = append(c.ev.list, fmt.Sprintf("stop %s (polls in flight %d)", c.name, c.ev.inFlight))
	return nil
}
func (c *component) Failed() <-chan error { return c.fail }

// rig is an App on a kfake cluster whose polls, client closes and
// component starts and stops are recorded in one list.
type rig struct {
	app  *App
	ev   *events
	hold *atomic.Bool
	held chan struct{}
	logs *testenv.LockedBuffer
}

func newRig(t *testing.T, c *kfaketest.Cluster, ev *events, opts Options, args ...string) *rig {
	t.Helper()
	r := &rig{ev: ev, hold: new(atomic.Bool), held: make(chan struct{}, 1), logs: &testenv.LockedBuffer{}}
	cfg := config(t, append([]string{"--kafka.brokers", strings.Join(c.ListenAddrs(), ","), "--poll.interval", "100ms",
		"--web.listen-address", "127.0.0.1:0"}, args...)...)
	opts.Logger = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := newApp(context.Background(), cfg, opts, hooks{
		wrapSource: func(s exporter.Source) exporter.Source {
			return recorder{Client: s.(*kafkaadmin.Client), ev: ev, hold: r.hold, held: r.held}
		},
		closed: func() {
			ev.add("close clients")
			ev.closedOnce.Do(func() { close(ev.closed) })
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.app = a
	return r
}

// run runs the App in the background; wait returns Run's error.
func (r *rig) run(ctx context.Context) (wait func(t *testing.T) error) {
	done := make(chan error, 1)
	go func() { done <- r.app.Run(ctx) }()
	return func(t *testing.T) error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatalf("Run did not return; events: %s; logs:\n%s", r.ev, r.logs)
			return nil
		}
	}
}

// waitPolls waits for n returned polls.
func (r *rig) waitPolls(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.ev.polled:
		case <-time.After(20 * time.Second):
			t.Fatalf("no poll returned; events: %s; logs:\n%s", r.ev, r.logs)
		}
	}
}

// holdPoll makes the next poll slow to return after the shutdown began
// and waits until it is in flight.
func (r *rig) holdPoll(t *testing.T) {
	t.Helper()
	r.hold.Store(true)
	select {
	case <-r.held:
	case <-time.After(20 * time.Second):
		t.Fatalf("no poll started; events: %s", r.ev)
	}
}

// checkOrder asserts that the clients were closed once, after the last
// poll returned, and that no poll was in flight when Run returned.
func (r *rig) checkOrder(t *testing.T) {
	t.Helper()
	closed := r.ev.index("close clients")
	if closed < 0 {
		t.Fatalf("Kafka clients never closed; events: %s", r.ev)
	}
	if last := r.ev.lastIndex("poll "); last > closed {
		t.Errorf("a poll was still running when the Kafka clients closed; events: %s", r.ev)
	}
	r.ev.mu.Lock()
	defer r.ev.mu.Unlock()
	if r.ev.inFlight != 0 {
		t.Errorf("%d polls in flight after Run returned; events: %s", r.ev.inFlight, strings.Join(r.ev.list, ", "))
	}
}

func (r *rig) checkLogs(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, r.logs)
		}
	}
}

// A failing HTTP server (its listener gone while serving) stops the polls:
// Run returns the server's error, only after the poll in flight returned,
// and the Kafka clients close after it. Nothing keeps running.
func TestFailingServerStopsPolls(t *testing.T) {
	c := cluster(t)
	defer noLeaks(t)()
	r := newRig(t, c, newEvents(), Options{})
	wait := r.run(context.Background())
	r.waitPolls(t, 1)
	r.holdPoll(t)
	_ = r.app.listeners[0].Close()
	err := wait(t)
	if err == nil || !strings.Contains(err.Error(), "http server on 127.0.0.1:") {
		t.Fatalf("Run returned %v, want the HTTP server's error", err)
	}
	r.checkOrder(t)
	r.checkLogs(t, "shutting down: a component failed", "polls stopped", "Kafka clients closed", "shutdown complete")
}

// On SIGTERM (ctx ends) with a poll in flight: the poll returns first, then
// the components stop (in reverse order), then the clients close; Run
// returns nil.
func TestShutdownOrder(t *testing.T) {
	c := cluster(t)
	defer noLeaks(t)()
	ev := newEvents()
	ha1, ha2 := &component{name: "ha1", ev: ev}, &component{name: "ha2", ev: ev}
	r := newRig(t, c, ev, Options{Components: []Component{ha1, ha2}})
	ctx, cancel := context.WithCancel(context.Background())
	wait := r.run(ctx)
	r.waitPolls(t, 2)
	r.holdPoll(t)
	cancel()
	if err := wait(t); err != nil {
		t.Fatalf("Run after ctx ended: %v", err)
	}
	r.checkOrder(t)
	first := ev.index("poll start")
	if i1, i2 := ev.index("start ha1"), ev.index("start ha2"); i1 < 0 || i1 > i2 || i2 > first {
		t.Errorf("components did not start in order before the first poll: %s", ev)
	}
	s2, s1 := ev.index("stop ha2 (polls in flight 0)"), ev.index("stop ha1 (polls in flight 0)")
	if s2 < 0 || s1 < 0 || s2 > s1 {
		t.Errorf("components not stopped in reverse order with no poll in flight: %s", ev)
	}
	if ev.lastIndex("poll end") > s2 || s1 > ev.index("close clients") {
		t.Errorf("want last poll end < component stops < close clients: %s", ev)
	}
	r.checkLogs(t, "shutting down", "polls stopped", "component stopped", "Kafka clients closed", "HTTP server stopped", "shutdown complete")
}

// A Component that fails while running stops the application like a
// failing server: polls first, Run returns its error.
func TestFailingComponentStopsPolls(t *testing.T) {
	c := cluster(t)
	defer noLeaks(t)()
	ev := newEvents()
	ha := &component{name: "ha", ev: ev, fail: make(chan error, 1)}
	r := newRig(t, c, ev, Options{Components: []Component{ha}})
	wait := r.run(context.Background())
	r.waitPolls(t, 1)
	r.holdPoll(t)
	ha.fail <- errors.New("lost the membership group")
	err := wait(t)
	if err == nil || !strings.Contains(err.Error(), "ha: lost the membership group") {
		t.Fatalf("Run returned %v, want the component's error", err)
	}
	r.checkOrder(t)
	if ev.index("stop ha (polls in flight 0)") < 0 {
		t.Errorf("component not stopped after the polls: %s", ev)
	}
}

// A port in use fails New (before any Kafka request; nothing left open),
// naming the address.
func TestPortInUse(t *testing.T) {
	c := cluster(t)
	defer noLeaks(t)()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var requests atomic.Int64
	c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		requests.Add(1)
		return nil, nil, false
	})
	cfg := config(t, "--kafka.brokers", strings.Join(c.ListenAddrs(), ","), "--web.listen-address", busy.Addr().String())
	_, err = New(context.Background(), cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), busy.Addr().String()) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("New = %v, want address in use naming %s", err, busy.Addr())
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d Kafka requests before the listen failed", n)
	}
}

// The shutdown is bounded by cloudwatch.flush-timeout: with the brokers
// not answering (the poll hangs until its 1 min timeout) and an HTTP
// request whose body never arrives (it would hold the server until the
// 30 s read timeout), Run returns, cutting the request off, while the broker still
// holds the poll's request.
func TestShutdownBoundedByFlushTimeout(t *testing.T) {
	c := cluster(t)
	release := make(chan struct{})
	var hung atomic.Int64
	c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		hung.Add(1)
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	r := newRig(t, c, newEvents(), Options{}, "--poll.interval", "1m", "--cloudwatch.flush-timeout", "300ms")
	var active atomic.Bool
	r.app.servers[0].ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateActive {
			active.Store(true)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := r.run(ctx)
	conn, err := net.Dial("tcp", r.app.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"); err != nil {
		t.Fatal(err)
	}
	// Wait until the request is being read and a Kafka request hangs.
	for hung.Load() == 0 || !active.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	err = wait(t)
	close(release)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r.checkOrder(t)
	r.checkLogs(t, "polls stopped", "HTTP requests in flight were cut off at the shutdown timeout", "shutdown complete")
}

// With --ha.enabled the membership is the first Component: it joins before
// the first poll (the replica then owns every shard and exports the group),
// serves /api/v1/replicas, and leaves the group after the polls returned
// and before the Kafka clients close.
func TestHAMembershipLifecycle(t *testing.T) {
	c := cluster(t)
	defer noLeaks(t)()
	r := newRig(t, c, newEvents(), Options{}, "--ha.enabled", "--ha.partitions", "4", "--ha.session-timeout", "6s")
	ctx, cancel := context.WithCancel(context.Background())
	wait := r.run(ctx)
	base := "http://" + r.app.Addrs()[0].String()
	deadline := time.Now().Add(30 * time.Second)
	var body string
	for !strings.Contains(body, "offsetlag_ha_shards_owned 4\n") || !strings.Contains(body, `offsetlag_consumergroup_lag{cluster_name="default",group="g",topic="t",partition="0"} 7`) {
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not take every shard and export g; /metrics:\n%s\nlogs:\n%s", body, r.logs)
		}
		time.Sleep(100 * time.Millisecond)
		body = testenv.Body(base + "/metrics")
	}
	if api := testenv.Body(base + "/api/v1/replicas"); !strings.Contains(api, `"owned":[0,1,2,3]`) {
		t.Errorf("/api/v1/replicas = %s", api)
	}
	cancel()
	if err := wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	r.checkOrder(t)
	logs := r.logs.String()
	started, polled := strings.Index(logs, `msg="component started" component=ha`), strings.Index(logs, `msg="poll done"`)
	stopped, left, closed := strings.Index(logs, "polls stopped"), strings.Index(logs, "left the replicas' group"), strings.Index(logs, "Kafka clients closed")
	if started < 0 || polled < 0 || stopped < 0 || left < 0 || closed < 0 || !(started < polled && stopped < left && left < closed) {
		t.Errorf("want ha started < first poll, polls stopped < left the replicas' group < Kafka clients closed:\n%s", logs)
	}
}

// CloudWatch that never answers does not hold the shutdown: the flush is
// cut at cloudwatch.flush-timeout (logged), the clients still close after
// the polls, Run returns while the PutMetricData request still hangs.
func TestShutdownCloudWatchHangs(t *testing.T) {
	c := cluster(t)
	mototest.HermeticAWSEnv(t)
	release := make(chan struct{})
	var requests atomic.Int64
	cw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		<-release
	}))
	defer cw.Close()
	defer close(release)
	r := newRig(t, c, newEvents(), Options{}, "--kafka.cluster-name", "prod", "--cloudwatch.mode", "api", "--cloudwatch.endpoint", cw.URL,
		"--cloudwatch.protocol", "json", "--cloudwatch.publish-period", "0s", "--cloudwatch.request-timeout", "1m",
		"--cloudwatch.flush-timeout", "500ms")
	ctx, cancel := context.WithCancel(context.Background())
	wait := r.run(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for requests.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no PutMetricData request; logs:\n%s", r.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	r.checkOrder(t)
	r.checkLogs(t, "polls stopped", "CloudWatch flush cut short", "Kafka clients closed", "shutdown complete")
}
