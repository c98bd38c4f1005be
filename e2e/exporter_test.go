package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// exporterProc is a running offsetlag-exporter binary.
type exporterProc struct {
	url  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	logs *testenv.LockedBuffer
	done chan struct{}
}

// startExporter runs the built exporter against b with a 500ms poll interval
// on a free port, plus args, and waits until it serves a successful poll. It
// is killed at t.Cleanup. The environment is scrubbed of OFFSETLAG_* so the
// rig's own variables (OFFSETLAG_TEST_KAFKA_VERSION=3.9) do not configure it.
func startExporter(t *testing.T, b *kafkatest.Broker, args ...string) *exporterProc {
	t.Helper()
	return startExporterOn(t, b.Addr, args...)
}

// startExporterOn is startExporter with --kafka.brokers brokers (a
// comma-separated list).
func startExporterOn(t *testing.T, brokers string, args ...string) *exporterProc {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p := launchExporter(t, brokers, nil, args...)
		err := p.waitPoll(t, time.Time{}, 30*time.Second)
		if err == nil {
			t.Logf("exporter on %s: %s", p.url, strings.Join(p.cmd.Args[1:], " "))
			return p
		}
		lastErr = err
		_ = p.cmd.Process.Kill()
		<-p.done
		if !strings.Contains(p.logs.String(), "address already in use") {
			break
		}
	}
	t.Fatalf("exporter did not start: %v", lastErr)
	return nil
}

// launchExporter starts the built exporter against addr on a free port with
// a 500ms poll interval, the environment without OFFSETLAG_* variables plus
// env, and args after the defaults. It does not wait for a poll; the process
// is killed at cleanup, and its log printed when the test failed.
func launchExporter(t *testing.T, addr string, env []string, args ...string) *exporterProc {
	t.Helper()
	bin := exporterBinary(t)
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OFFSETLAG_") {
			base = append(base, kv)
		}
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{
		"--kafka.brokers", addr,
		"--kafka.cluster-name", "e2e",
		"--poll.interval", "500ms",
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", port),
	}, args...)
	p := &exporterProc{
		url:  fmt.Sprintf("http://127.0.0.1:%d", port),
		cmd:  exec.Command(bin, all...),
		logs: &testenv.LockedBuffer{},
		done: make(chan struct{}),
	}
	p.cmd.Env = append(base, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	setProcAttrs(p.cmd)
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the starting thread dies: keep it alive
		// as long as the process (never unlocked on purpose).
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		started <- nil
		_ = p.cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("exporter %v log:\n%s", all, testenv.TailLines(p.logs.String(), 40))
		}
	})
	return p
}

// exited returns an error with the exit status and the log's tail once the
// process has exited, nil while it runs.
func (p *exporterProc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("exporter exited: %v\n%s", p.cmd.ProcessState, testenv.TailLines(p.logs.String(), 30))
	default:
		return nil
	}
}

// waitPoll waits until offsetlag_up is 1 and the last successful poll
// started after since (its end timestamp minus its duration; since zero:
// any successful poll).
func (p *exporterProc) waitPoll(t *testing.T, since time.Time, timeout time.Duration) error {
	t.Helper()
	deadline := time.Now().Add(timeout)
	want := float64(since.UnixNano()) / 1e9
	var last error
	for time.Now().Before(deadline) {
		if err := p.exited(); err != nil {
			return err
		}
		ms, err := p.scrape()
		if err == nil {
			up := ms.value("offsetlag_up", nil)
			end := ms.value("offsetlag_last_successful_poll_timestamp_seconds", nil)
			dur := ms.value("offsetlag_poll_duration_seconds", nil)
			// up == 1: the last poll is the successful one, so its
			// duration belongs to the timestamp.
			if up == 1 && end > 0 && dur >= 0 && (since.IsZero() || end-dur > want) {
				return nil
			}
			err = fmt.Errorf("offsetlag_up=%v last_successful_poll=%v duration=%v, want a poll started after %v", up, end, dur, want)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no successful poll in %s: %v", timeout, last)
}

// settled waits for a poll that started after now, then scrapes.
func (p *exporterProc) settled(t *testing.T) metricSet {
	t.Helper()
	if err := p.waitPoll(t, time.Now(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	ms, err := p.scrape()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// metricSet is one parsed /metrics exposition.
type metricSet map[string]*dto.MetricFamily

func (p *exporterProc) scrape() (metricSet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s: %s", resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	return metricSet(fams), nil
}

// series returns the samples of family name whose labels include match.
func (ms metricSet) series(name string, match map[string]string) []*dto.Metric {
	f := ms[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
next:
	for _, m := range f.GetMetric() {
		for k, v := range match {
			if labelOf(m, k) != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// value returns the value of the single series of name matching match, or
// -1 when there is none (and NaN when there are several).
func (ms metricSet) value(name string, match map[string]string) float64 {
	s := ms.series(name, match)
	switch len(s) {
	case 0:
		return -1
	case 1:
		return sampleValue(s[0])
	default:
		return -2
	}
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return -3
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// partitionKey names one group-topic-partition.
type partitionKey struct {
	group, topic string
	partition    int32
}

func (k partitionKey) String() string {
	return fmt.Sprintf("%s/%s/%d", k.group, k.topic, k.partition)
}

// partitionValues returns family name (labels group, topic, partition) as a
// map, for groups accepted by keep.
func (ms metricSet) partitionValues(t *testing.T, name string, keep func(group string) bool) map[partitionKey]float64 {
	t.Helper()
	out := map[partitionKey]float64{}
	for _, m := range ms.series(name, nil) {
		g := labelOf(m, "group")
		if !keep(g) {
			continue
		}
		p, err := strconv.ParseInt(labelOf(m, "partition"), 10, 32)
		if err != nil {
			t.Fatalf("%s: bad partition label: %v", name, err)
		}
		k := partitionKey{g, labelOf(m, "topic"), int32(p)}
		if _, dup := out[k]; dup {
			t.Errorf("%s: duplicate series for %s", name, k)
		}
		out[k] = sampleValue(m)
	}
	return out
}

func parseInt(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func itoa[I ~int32 | ~int64 | ~int](i I) string { return strconv.FormatInt(int64(i), 10) }
