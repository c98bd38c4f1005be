package kafkatest

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var shared struct {
	mu      sync.Mutex
	brokers map[string]*sharedBroker
}

type sharedBroker struct {
	once sync.Once
	b    *Broker
	err  error
}

// Shared returns a broker shared by every test of the test binary that asks for the same
// Options (version and configs); it is started on first use. Stop it from TestMain with Main
// (or StopShared). Tests must not assume a clean broker: use unique topic and group names.
// Without Main, the JVM still dies with the test binary (Pdeathsig), but its temp dir remains.
func Shared(t testing.TB, opts Options) *Broker {
	t.Helper()
	skipShort(t)
	key := sharedKey(opts)
	shared.mu.Lock()
	if shared.brokers == nil {
		shared.brokers = map[string]*sharedBroker{}
	}
	sb := shared.brokers[key]
	if sb == nil {
		sb = &sharedBroker{}
		shared.brokers[key] = sb
	}
	shared.mu.Unlock()
	sb.once.Do(func() {
		dir, err := os.MkdirTemp("", "kafkatest-")
		if err != nil {
			sb.err = err
			return
		}
		b, err := newBroker(opts, dir)
		if err != nil {
			sb.err = err
			os.RemoveAll(dir)
			return
		}
		if err := b.startFresh(); err != nil {
			sb.err = fmt.Errorf("%w\nlog tail:\n%s", err, b.LogTail(80))
			b.Stop()
			return
		}
		sb.b = b
		t.Logf("kafkatest: shared Kafka %s on %s started in %s", b.Version, b.Addr, b.StartDuration().Round(time.Millisecond))
	})
	if sb.err != nil {
		bail(t, sb.err)
	}
	if !sb.b.Running() {
		t.Fatalf("kafkatest: shared broker %s is not running (stopped by an earlier test?)", sb.b.Addr)
	}
	return sb.b
}

// StopShared stops every shared broker and removes its directory.
func StopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for k, sb := range shared.brokers {
		if sb.b != nil {
			if err := sb.b.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "kafkatest: stop shared broker: %v\n", err)
			}
			os.RemoveAll(sb.b.Dir)
		}
		delete(shared.brokers, k)
	}
}

// Main runs the tests and then stops the shared brokers; use it as
//
//	func TestMain(m *testing.M) { os.Exit(kafkatest.Main(m)) }
func Main(m *testing.M) int {
	defer StopShared()
	return m.Run()
}

func sharedKey(opts Options) string {
	keys := make([]string, 0, len(opts.Configs))
	for k := range opts.Configs {
		keys = append(keys, k+"="+opts.Configs[k])
	}
	sort.Strings(keys)
	return RequestedVersion(opts.Version) + "|" + strings.Join(keys, ",") + "|" + opts.securityKey()
}
