package kafkatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/internal/testing/testpki"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// Environment variables read by this package.
const (
	EnvVersion  = "OFFSETLAG_TEST_KAFKA_VERSION"   // default Kafka version: "4.1" (default), "3.9" or x.y.z
	EnvLibs     = "OFFSETLAG_TEST_KAFKA_LIBS"      // a directory of jars to use instead of running scripts/kafka-jars.sh
	EnvJVMOpts  = "OFFSETLAG_TEST_KAFKA_JVM_OPTS"  // replaces the broker's default JVM flags
	EnvKeepLogs = "OFFSETLAG_TEST_KAFKA_KEEP_LOGS" // "1": always print the broker log tail at cleanup
)

// DefaultVersion is the Kafka line used when neither Options.Version nor OFFSETLAG_TEST_KAFKA_VERSION is set.
const DefaultVersion = "4.1"

// DefaultJVMOpts are the broker's JVM flags, tuned for start-up speed on a small (2-core) machine.
var DefaultJVMOpts = []string{"-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"}

// toolJVMOpts are the flags for CLI tools (ConsumerGroupCommand, console consumer, StorageTool).
var toolJVMOpts = []string{"-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"}

// Options configure a broker.
type Options struct {
	// Version: "4.1" (default), "3.9", or an exact "x.y.z". Empty: env OFFSETLAG_TEST_KAFKA_VERSION, else 4.1.
	Version string
	// Configs are extra broker properties (server.properties), applied over the defaults. Examples:
	// "offsets.retention.minutes": "1", "offsets.retention.check.interval.ms": "1000".
	Configs map[string]string
	// StartTimeout bounds one start (JVM launch until Metadata answers). Default 2 minutes.
	StartTimeout time.Duration
	// StopTimeout bounds a graceful stop (SIGTERM) before SIGKILL. Default 30 seconds.
	StopTimeout time.Duration
	// SASLUsers, when set, add a SASL_PLAINTEXT listener (Broker.SASLAddr) with mechanisms PLAIN,
	// SCRAM-SHA-256 and SCRAM-SHA-512 and these users (name -> password; letters and digits). The
	// SCRAM credentials are created by `format --add-scram` (security.go).
	SASLUsers map[string]string
	// TLS, when set, adds an SSL listener (Broker.TLSAddr) with generated certificates (Broker.PKI).
	TLS *TLSOptions
	// JVMOpts replace DefaultJVMOpts (env OFFSETLAG_TEST_KAFKA_JVM_OPTS still wins).
	JVMOpts []string
}

// Broker is a running (or stopped) single-node KRaft Kafka: broker and controller in one JVM.
type Broker struct {
	Addr           string       // PLAINTEXT listener, "127.0.0.1:PORT"
	ControllerAddr string       // CONTROLLER listener, "127.0.0.1:PORT"
	SASLAddr       string       // SASL_PLAINTEXT listener with Options.SASLUsers, or ""
	TLSAddr        string       // SSL listener with Options.TLS, or ""
	PKI            *testpki.PKI // CA and certificates of the SSL listener (Options.TLS), or nil
	Version        string       // exact Kafka version, for example "4.1.2"
	Libs           string       // directory of the jars (the classpath is Libs/*)
	Dir            string       // working directory: server.properties, log4j2 files, server.log, data/
	ClusterID      string

	opts    Options
	java    string
	mu      sync.Mutex
	proc    *proc
	started time.Duration // duration of the last start
	paused  bool          // SIGSTOP sent, no SIGCONT yet

	// Set by StartCluster; zero for a single broker (node 1, its own quorum).
	nodeID int
	voters string // controller.quorum.voters
}

// GroupOffset is one row of `kafka-consumer-groups --describe`.
// Offsets and Lag are -1 where the tool prints "-".
type GroupOffset struct {
	Group         string
	Topic         string
	Partition     int32
	CurrentOffset int64
	LogEndOffset  int64
	Lag           int64
	ConsumerID    string // "-" when no member owns the partition
	Host          string
	ClientID      string
}

// envError marks a failure of the environment (no java, no maven, no network): skip unless CI=true.
type envError struct{ err error }

func (e envError) Error() string { return e.err.Error() }
func (e envError) Unwrap() error { return e.err }

// bail skips (environment problems, outside CI) or fails the test.
func bail(t testing.TB, err error) {
	t.Helper()
	var ee envError
	if errors.As(err, &ee) && !testenv.InCI() {
		t.Skipf("kafkatest: real Kafka broker not available (set CI=true to make this fatal): %v", err)
	}
	t.Fatalf("kafkatest: %v", err)
}

func skipShort(t testing.TB) {
	t.Helper()
	testenv.SkipShort(t, "kafkatest: real Kafka broker")
}

// Start starts a fresh broker with its data in t.TempDir() and stops it at t.Cleanup.
// On failure it prints the tail of the broker log.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	skipShort(t)
	dir := t.TempDir() // before Cleanup below: removed after the broker stopped
	b, err := newBroker(opts, dir)
	if err != nil {
		bail(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv(EnvKeepLogs) == "1" {
			t.Logf("kafkatest: tail of %s:\n%s", b.LogPath(), b.LogTail(60))
		}
		if err := b.Stop(); err != nil {
			t.Logf("kafkatest: stop: %v", err)
		}
	})
	if err := b.startFresh(); err != nil {
		t.Logf("kafkatest: tail of %s:\n%s", b.LogPath(), b.LogTail(80))
		bail(t, err)
	}
	t.Logf("kafkatest: Kafka %s on %s started in %s", b.Version, b.Addr, b.StartDuration().Round(time.Millisecond))
	return b
}

// newBroker resolves java and the jars, picks ports and writes the configuration (no process yet).
func newBroker(opts Options, dir string) (*Broker, error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 30 * time.Second
	}
	java, libs, version, err := javaAndLibs(opts.Version)
	if err != nil {
		return nil, err
	}
	b := &Broker{
		Version:   version,
		Libs:      libs,
		Dir:       dir,
		ClusterID: randomClusterID(),
		opts:      opts,
		java:      java,
	}
	if err := b.prepare(); err != nil {
		return nil, err
	}
	return b, nil
}

// prepare picks free ports, writes the configuration and formats empty storage.
func (b *Broker) prepare() error {
	ports, err := freePorts(2 + b.opts.securityPorts())
	if err != nil {
		return err
	}
	b.Addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	b.ControllerAddr = fmt.Sprintf("127.0.0.1:%d", ports[1])
	if err := b.setSecurityAddrs(ports[2:]); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(b.Dir, "data")); err != nil {
		return err
	}
	if err := b.writeConfigs(ports[0], ports[1]); err != nil {
		return err
	}
	return b.format()
}

// startFresh is the first start: if a port picked by prepare was taken in the meantime
// (BindException), it prepares again with new ports, up to 3 times.
func (b *Broker) startFresh() error {
	for attempt := 1; ; attempt++ {
		err := b.start()
		if err == nil || attempt == 3 || !b.bindFailed() {
			return err
		}
		_ = os.Rename(b.LogPath(), b.LogPath()+fmt.Sprintf(".bind-failure-%d", attempt))
		_ = os.Remove(b.jvmOutPath())
		if err := b.prepare(); err != nil {
			return err
		}
	}
}

func (b *Broker) bindFailed() bool {
	for _, f := range []string{b.LogPath(), b.jvmOutPath()} {
		if data, err := os.ReadFile(f); err == nil && bytes.Contains(data, []byte("Address already in use")) {
			return true
		}
	}
	return false
}

func (b *Broker) writeConfigs(port, cport int) error {
	nodeID, voters := b.nodeID, b.voters
	if nodeID == 0 {
		nodeID, voters = 1, fmt.Sprintf("1@127.0.0.1:%d", cport)
	}
	props := map[string]string{
		"process.roles":                    "broker,controller",
		"node.id":                          strconv.Itoa(nodeID),
		"controller.quorum.voters":         voters,
		"listeners":                        fmt.Sprintf("PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", port, cport),
		"advertised.listeners":             fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", port),
		"controller.listener.names":        "CONTROLLER",
		"inter.broker.listener.name":       "PLAINTEXT",
		"listener.security.protocol.map":   "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"log.dirs":                         filepath.Join(b.Dir, "data"),
		"num.partitions":                   "1",
		"default.replication.factor":       "1",
		"min.insync.replicas":              "1",
		"offsets.topic.replication.factor": "1",
		// Fewer internal partitions than the default 50: the first group/transaction is much faster.
		"offsets.topic.num.partitions":                     "5",
		"transaction.state.log.replication.factor":         "1",
		"transaction.state.log.min.isr":                    "1",
		"transaction.state.log.num.partitions":             "5",
		"share.coordinator.state.topic.replication.factor": "1",
		"share.coordinator.state.topic.min.isr":            "1",
		"group.initial.rebalance.delay.ms":                 "0",
		"auto.create.topics.enable":                        "true",
		"delete.topic.enable":                              "true",
	}
	if strings.HasPrefix(b.Version, "3.") {
		// Unknown to 3.9 (logged as unused, harmless), dropped to keep its log clean.
		delete(props, "share.coordinator.state.topic.replication.factor")
		delete(props, "share.coordinator.state.topic.min.isr")
	}
	b.securityProps(props)
	for k, v := range b.opts.Configs {
		props[k] = v
	}
	keys := slices.Sorted(maps.Keys(props))
	var sb strings.Builder
	sb.WriteString("# written by internal/kafkatest\n")
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s=%s\n", k, props[k])
	}
	if err := os.WriteFile(b.propsPath(), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	brokerLog := fmt.Sprintf(`# written by internal/kafkatest: broker logs to a file
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = %s
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%%d] %%p %%m (%%c)%%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
`, b.LogPath())
	if err := os.WriteFile(filepath.Join(b.Dir, "log4j2.properties"), []byte(brokerLog), 0o644); err != nil {
		return err
	}
	return os.WriteFile(b.toolsLogConfig(), []byte(toolsLog4j), 0o644)
}

const toolsLog4j = `# written by internal/kafkatest: CLI tools log warnings to stderr, stdout stays clean
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
`

func (b *Broker) propsPath() string            { return filepath.Join(b.Dir, "server.properties") }
func (b *Broker) toolsLogConfig() string       { return filepath.Join(b.Dir, "tools-log4j2.properties") }
func (b *Broker) LogPath() string              { return filepath.Join(b.Dir, "server.log") }
func (b *Broker) jvmOutPath() string           { return filepath.Join(b.Dir, "jvm.out") }
func (b *Broker) classpath() string            { return filepath.Join(b.Libs, "*") }
func (b *Broker) StartDuration() time.Duration { b.mu.Lock(); defer b.mu.Unlock(); return b.started }

// Bootstrap returns []string{b.Addr}, for client constructors.
func (b *Broker) Bootstrap() []string { return []string{b.Addr} }

// format runs kafka.tools.StorageTool format -t ID -c server.properties.
func (b *Broker) format() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"format", "-t", b.ClusterID, "-c", b.propsPath()}, b.scramFormatArgs()...)
	out, errOut, err := b.run(ctx, MainStorageTool, args...)
	if err != nil {
		return fmt.Errorf("format storage: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	return nil
}

func (b *Broker) jvmOpts() []string {
	if s := strings.TrimSpace(os.Getenv(EnvJVMOpts)); s != "" {
		return strings.Fields(s)
	}
	if len(b.opts.JVMOpts) > 0 {
		return b.opts.JVMOpts
	}
	return DefaultJVMOpts
}

// start launches the JVM and waits until the broker answers a Metadata request.
func (b *Broker) start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc != nil && !b.proc.exited() {
		return errors.New("broker already running")
	}
	t0 := time.Now()
	out, err := os.OpenFile(b.jvmOutPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the child keeps its own descriptor
	args := append([]string{}, b.jvmOpts()...)
	args = append(args,
		"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile="+filepath.Join(b.Dir, "log4j2.properties"),
		"-Dkafka.logs.dir="+b.Dir,
		"-cp", b.classpath(),
		MainBroker, b.propsPath())
	cmd := exec.Command(b.java, args...)
	cmd.Dir = b.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	testenv.SetProcAttrs(cmd)
	p, err := startProc(cmd)
	if err != nil {
		return envError{fmt.Errorf("start java: %w", err)}
	}
	b.proc = p
	b.paused = false
	deadline := time.Now().Add(b.opts.StartTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("kafka %s exited during start-up (%v); jvm output:\n%s", b.Version, p.err, testenv.TailFile(b.jvmOutPath(), 30))
		}
		if b.bindFailed() {
			b.stopLocked(true)
			return fmt.Errorf("kafka %s could not bind %s or %s (Address already in use)", b.Version, b.Addr, b.ControllerAddr)
		}
		if lastErr = metadataOK(b.Addr); lastErr == nil {
			b.started = time.Since(t0)
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.stopLocked(true)
	return fmt.Errorf("kafka %s did not answer Metadata on %s within %s: %v", b.Version, b.Addr, b.opts.StartTimeout, lastErr)
}

// metadataOK sends one Metadata request and wants this broker listed in the answer.
func metadataOK(addr string) error {
	resp, err := fetchMetadata(addr)
	if err != nil {
		return err
	}
	if len(resp.Brokers) == 0 {
		return errors.New("metadata lists no brokers yet")
	}
	return nil
}

// Stop stops the broker gracefully (SIGTERM, then SIGKILL after Options.StopTimeout). Idempotent.
func (b *Broker) Stop() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopLocked(false)
}

// Kill stops the broker with SIGKILL at once (a crash: no controlled shutdown, no flush).
func (b *Broker) Kill() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopLocked(true)
}

func (b *Broker) stopLocked(kill bool) error {
	p := b.proc
	if p == nil || p.exited() {
		return nil
	}
	if !kill {
		_ = testenv.SignalGroup(p.cmd, syscall.SIGTERM)
		if b.paused { // a stopped JVM handles SIGTERM once it runs again
			_ = testenv.SignalGroup(p.cmd, syscall.SIGCONT)
		}
		select {
		case <-p.done:
			return nil
		case <-time.After(b.opts.StopTimeout):
		}
	}
	_ = testenv.SignalGroup(p.cmd, syscall.SIGKILL)
	b.paused = false
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("kafka pid %d did not die after SIGKILL", p.cmd.Process.Pid)
	}
	if !kill {
		return fmt.Errorf("kafka did not stop within %s of SIGTERM; killed", b.opts.StopTimeout)
	}
	return nil
}

// Pause freezes the broker with SIGSTOP (its whole process group): connections stay open, nothing
// answers, as with a hung machine. Resume (SIGCONT) undoes it; Stop and Kill resume it first.
func (b *Broker) Pause() error { return b.freeze(syscall.SIGSTOP, "SIGSTOP", true) }

// Resume sends SIGCONT to a broker frozen by Pause.
func (b *Broker) Resume() error { return b.freeze(syscall.SIGCONT, "SIGCONT", false) }

// freeze sends sig to the running broker's process group and records
// whether it is now paused (Pause and Resume).
func (b *Broker) freeze(sig syscall.Signal, name string, paused bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil || b.proc.exited() {
		return errors.New("broker not running")
	}
	if err := testenv.SignalGroup(b.proc.cmd, sig); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	b.paused = paused
	return nil
}

// Paused reports whether the broker is frozen by Pause.
func (b *Broker) Paused() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.paused }

// Start starts a stopped broker again on the same ports with the same data and waits until it
// answers Metadata.
func (b *Broker) Start() error { return b.start() }

// Restart stops the broker (gracefully) and starts it again on the same ports with the same data.
func (b *Broker) Restart() error {
	if err := b.Stop(); err != nil {
		return err
	}
	return b.start()
}

// Running reports whether the broker process is alive.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.proc != nil && !b.proc.exited()
}

// LogTail returns the last n lines of the broker's server.log (and of the JVM's own output).
func (b *Broker) LogTail(n int) string {
	s := testenv.TailFile(b.LogPath(), n)
	if j := testenv.TailFile(b.jvmOutPath(), 10); strings.TrimSpace(j) != "" {
		s += "\n--- jvm.out ---\n" + j
	}
	return s
}

// Command returns a command running mainClass from the Kafka jars (for example
// "org.apache.kafka.tools.consumer.ConsoleConsumer") with small-JVM flags and a log4j2 config that
// sends warnings to stderr. It runs in its own process group with Pdeathsig=SIGKILL; if still
// running when the test ends, its process group is killed at t.Cleanup. The caller starts it.
func (b *Broker) Command(t testing.TB, mainClass string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := b.command(context.Background(), mainClass, args...)
	t.Cleanup(func() {
		if cmd.Process != nil {
			_ = testenv.SignalGroup(cmd, syscall.SIGKILL)
		}
	})
	return cmd
}

func (b *Broker) command(ctx context.Context, mainClass string, args ...string) *exec.Cmd {
	all := append([]string{}, toolJVMOpts...)
	all = append(all,
		"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile="+b.toolsLogConfig(),
		"-cp", b.classpath(), mainClass)
	all = append(all, args...)
	cmd := exec.CommandContext(ctx, b.java, all...)
	cmd.Dir = b.Dir
	testenv.SetProcAttrs(cmd)
	cmd.Cancel = func() error { return testenv.SignalGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// RunTool runs mainClass to completion and returns its stdout and stderr.
func (b *Broker) RunTool(ctx context.Context, mainClass string, args ...string) (stdout, stderr string, err error) {
	return b.run(ctx, mainClass, args...)
}

func (b *Broker) run(ctx context.Context, mainClass string, args ...string) (string, string, error) {
	cmd := b.command(ctx, mainClass, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// DescribeConsumerGroups runs Kafka's ConsumerGroupCommand with --describe and the given selection
// (for example "--all-groups", or "--group", "g1") and parses its table.
func (b *Broker) DescribeConsumerGroups(ctx context.Context, selection ...string) ([]GroupOffset, error) {
	if len(selection) == 0 {
		selection = []string{"--all-groups"}
	}
	out, err := b.groupCommand(ctx, append([]string{"--describe"}, selection...)...)
	if err != nil {
		return nil, err
	}
	return ParseConsumerGroups(out)
}

// groupCommand runs Kafka's ConsumerGroupCommand against the broker with
// args and returns its standard output; the error carries both outputs.
func (b *Broker) groupCommand(ctx context.Context, args ...string) (string, error) {
	args = append([]string{"--bootstrap-server", b.Addr}, args...)
	out, errOut, err := b.run(ctx, MainConsumerGroupCommand, args...)
	if err != nil {
		return "", fmt.Errorf("ConsumerGroupCommand %v: %v\nstdout: %s\nstderr: %s", args, err, out, errOut)
	}
	return out, nil
}

// ConsumerGroups is DescribeConsumerGroups(--all-groups) that fails the test on error.
func (b *Broker) ConsumerGroups(t testing.TB) []GroupOffset {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := b.DescribeConsumerGroups(ctx, "--all-groups")
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return rows
}

// ParseConsumerGroups parses the output of `kafka-consumer-groups --describe` (offsets mode):
// every table whose header starts with GROUP; other lines ("Consumer group 'g' has no active
// members.", blank lines) are ignored.
func ParseConsumerGroups(out string) ([]GroupOffset, error) {
	var rows []GroupOffset
	err := eachLine(out, func(f []string, cols map[string]int, header bool, line string) error {
		if header {
			for _, need := range []string{"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"} {
				if _, ok := cols[need]; !ok {
					return fmt.Errorf("unexpected header %q", line)
				}
			}
			return nil
		}
		if cols == nil || len(f) != len(cols) {
			return nil
		}
		row, err := groupOffsetRow(f, cols)
		if err != nil {
			return fmt.Errorf("line %q: %v", line, err)
		}
		rows = append(rows, row)
		return nil
	})
	return rows, err
}

// groupOffsetRow is one row of `--describe` output.
func groupOffsetRow(f []string, cols map[string]int) (GroupOffset, error) {
	get := func(name string) string {
		if i, ok := cols[name]; ok {
			return f[i]
		}
		return ""
	}
	p, err := strconv.ParseInt(get("PARTITION"), 10, 32)
	if err != nil {
		return GroupOffset{}, fmt.Errorf("partition: %v", err)
	}
	var nums [3]int64
	for i, name := range []string{"CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"} {
		s := get(name)
		if s == "-" {
			nums[i] = -1
			continue
		}
		if nums[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return GroupOffset{}, fmt.Errorf("%s: %v", name, err)
		}
	}
	return GroupOffset{
		Group: get("GROUP"), Topic: get("TOPIC"), Partition: int32(p),
		CurrentOffset: nums[0], LogEndOffset: nums[1], Lag: nums[2],
		ConsumerID: get("CONSUMER-ID"), Host: get("HOST"), ClientID: get("CLIENT-ID"),
	}, nil
}

// proc is a child process started from a locked OS thread that lives until the child is reaped,
// so Pdeathsig (tied to the starting thread) fires only when the test binary really goes away.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	p := &proc{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			p.err = err
			close(p.done)
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, <-started
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// freePorts is a variable so an internal test can hand out a taken port.
var freePorts = func(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// randomClusterID makes an id like `kafka-storage random-uuid` (base64url of 16 random bytes)
// without paying for a JVM start.
func randomClusterID() string {
	for {
		var u [16]byte
		_, _ = rand.Read(u[:])
		s := base64.RawURLEncoding.EncodeToString(u[:])
		if s[0] != '-' {
			return s
		}
	}
}

// javaAndLibs finds java and the jars of the requested Kafka version (see
// ResolveLibs): what starting a broker or a cluster needs.
func javaAndLibs(version string) (java, libs, exact string, err error) {
	if java, err = findJava(); err != nil {
		return "", "", "", err
	}
	libs, exact, err = ResolveLibs(version)
	return java, libs, exact, err
}

func findJava() (string, error) {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		j := filepath.Join(h, "bin", "java")
		if _, err := os.Stat(j); err == nil {
			return j, nil
		}
	}
	j, err := exec.LookPath("java")
	if err != nil {
		return "", envError{errors.New("java not found on PATH (install Java 17: apt-get install openjdk-17-jre-headless, or run scripts/ci-deps.sh)")}
	}
	return j, nil
}
