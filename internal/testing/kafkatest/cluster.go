package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// ClusterOptions configure a multi-node KRaft cluster (StartCluster).
type ClusterOptions struct {
	// Version as in Options.Version.
	Version string
	// Brokers is the number of nodes (default 3). Every node is broker and controller: a static
	// quorum of all nodes (controller.quorum.voters), so any one node may be stopped or frozen.
	Brokers int
	// Configs are broker properties applied over the cluster defaults (replication factor
	// min(3, Brokers) for every topic and internal topic, min.insync.replicas 2 when Brokers >= 3,
	// 6 partitions of __consumer_offsets).
	Configs map[string]string
	// StartTimeout bounds the start of one node (default 3 minutes); StopTimeout a controlled
	// shutdown before SIGKILL (default 60 seconds).
	StartTimeout, StopTimeout time.Duration
	// JVMOpts for every node (default ClusterJVMOpts; env OFFSETLAG_TEST_KAFKA_JVM_OPTS wins).
	JVMOpts []string
}

// ClusterJVMOpts keep each node small: three of them fit a 2-core machine beside the tests.
var ClusterJVMOpts = []string{"-Xms128m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"}

// Cluster is a running multi-node KRaft cluster. Brokers[i] has node id i+1.
type Cluster struct {
	Brokers   []*Broker
	Version   string
	ClusterID string
	opts      ClusterOptions
}

// StartCluster starts a fresh cluster with its data in t.TempDir() and stops it at t.Cleanup.
// It returns once every node answers Metadata listing all nodes. The environment policy is
// Start's: skip when java or the jars are missing, except when CI=true, where it fails.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	skipShort(t)
	dir := t.TempDir()
	c, err := newCluster(opts, dir)
	if err != nil {
		bail(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv(EnvKeepLogs) == "1" {
			for i, b := range c.Brokers {
				t.Logf("kafkatest: node %d: tail of %s:\n%s", i+1, b.LogPath(), b.LogTail(40))
			}
		}
		if err := c.Stop(); err != nil {
			t.Logf("kafkatest: stop cluster: %v", err)
		}
	})
	t0 := time.Now()
	if err := c.startFresh(); err != nil {
		for i, b := range c.Brokers {
			t.Logf("kafkatest: node %d: tail of %s:\n%s", i+1, b.LogPath(), b.LogTail(60))
		}
		bail(t, err)
	}
	t.Logf("kafkatest: %d-node Kafka %s cluster on %s started in %s", len(c.Brokers), c.Version,
		strings.Join(c.Bootstrap(), ","), time.Since(t0).Round(time.Millisecond))
	return c
}

func newCluster(opts ClusterOptions, dir string) (*Cluster, error) {
	if opts.Brokers <= 0 {
		opts.Brokers = 3
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 3 * time.Minute
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = time.Minute
	}
	if len(opts.JVMOpts) == 0 {
		opts.JVMOpts = ClusterJVMOpts
	}
	java, libs, version, err := javaAndLibs(opts.Version)
	if err != nil {
		return nil, err
	}
	rf := min(3, opts.Brokers)
	minISR := 1
	if rf >= 3 {
		minISR = 2
	}
	configs := map[string]string{
		"default.replication.factor":                       strconv.Itoa(rf),
		"min.insync.replicas":                              strconv.Itoa(minISR),
		"offsets.topic.replication.factor":                 strconv.Itoa(rf),
		"offsets.topic.num.partitions":                     "6",
		"transaction.state.log.replication.factor":         strconv.Itoa(rf),
		"transaction.state.log.min.isr":                    strconv.Itoa(minISR),
		"share.coordinator.state.topic.replication.factor": strconv.Itoa(rf),
		"share.coordinator.state.topic.min.isr":            strconv.Itoa(minISR),
	}
	for k, v := range opts.Configs {
		configs[k] = v
	}
	c := &Cluster{Version: version, ClusterID: randomClusterID(), opts: opts}
	for i := 0; i < opts.Brokers; i++ {
		bdir := filepath.Join(dir, fmt.Sprintf("node%d", i+1))
		if err := os.MkdirAll(bdir, 0o755); err != nil {
			return nil, err
		}
		c.Brokers = append(c.Brokers, &Broker{
			Version:   version,
			Libs:      libs,
			Dir:       bdir,
			ClusterID: c.ClusterID,
			opts: Options{
				Version: opts.Version, Configs: configs, JVMOpts: opts.JVMOpts,
				StartTimeout: opts.StartTimeout, StopTimeout: opts.StopTimeout,
			},
			java:   java,
			nodeID: i + 1,
		})
	}
	return c, c.prepare()
}

// prepare picks 2 ports per node, writes every node's configuration and formats the storages
// (in parallel: one StorageTool JVM each).
func (c *Cluster) prepare() error {
	ports, err := freePorts(2 * len(c.Brokers))
	if err != nil {
		return err
	}
	var voters []string
	for i := range c.Brokers {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", i+1, ports[2*i+1]))
	}
	for i, b := range c.Brokers {
		b.Addr = fmt.Sprintf("127.0.0.1:%d", ports[2*i])
		b.ControllerAddr = fmt.Sprintf("127.0.0.1:%d", ports[2*i+1])
		b.voters = strings.Join(voters, ",")
		if err := os.RemoveAll(filepath.Join(b.Dir, "data")); err != nil {
			return err
		}
		if err := b.writeConfigs(ports[2*i], ports[2*i+1]); err != nil {
			return err
		}
	}
	return c.each(func(_ int, b *Broker) error { return b.format() })
}

// each runs f on every node in parallel and joins the errors.
func (c *Cluster) each(f func(i int, b *Broker) error) error {
	errs := make([]error, len(c.Brokers))
	var wg sync.WaitGroup
	for i, b := range c.Brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(i, b); err != nil {
				errs[i] = fmt.Errorf("node %d: %w", i+1, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startFresh starts every node at once (a node answers only once a quorum of controllers is up);
// if a port was taken meanwhile, it stops them all and prepares again with new ports, up to 3 times.
func (c *Cluster) startFresh() error {
	for attempt := 1; ; attempt++ {
		err := c.each(func(_ int, b *Broker) error { return b.start() })
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), c.opts.StartTimeout)
			defer cancel()
			return c.WaitBrokers(ctx)
		}
		bind := false
		for _, b := range c.Brokers {
			bind = bind || b.bindFailed()
		}
		_ = c.Stop()
		if attempt == 3 || !bind {
			return err
		}
		for _, b := range c.Brokers {
			_ = os.Rename(b.LogPath(), b.LogPath()+fmt.Sprintf(".bind-failure-%d", attempt))
			_ = os.Remove(b.jvmOutPath())
		}
		if err := c.prepare(); err != nil {
			return err
		}
	}
}

// Stop stops every node (controlled shutdown, in parallel). Idempotent.
func (c *Cluster) Stop() error {
	return c.each(func(_ int, b *Broker) error { return b.Stop() })
}

// Bootstrap returns the PLAINTEXT addresses of all nodes.
func (c *Cluster) Bootstrap() []string {
	out := make([]string, len(c.Brokers))
	for i, b := range c.Brokers {
		out[i] = b.Addr
	}
	return out
}

// BrokerList is Bootstrap joined with commas (for --bootstrap-server or --kafka.brokers).
func (c *Cluster) BrokerList() string { return strings.Join(c.Bootstrap(), ",") }

// StopBroker stops node i (index into Brokers) with SIGTERM: a controlled shutdown, in which the
// controller moves the node's leaderships away before it exits. It fails if the node had to be
// killed after ClusterOptions.StopTimeout.
func (c *Cluster) StopBroker(i int) error { return c.Brokers[i].Stop() }

// StartBroker starts node i again (same ports and data) and waits until it answers Metadata.
// Use WaitISR to wait until it has caught up.
func (c *Cluster) StartBroker(i int) error { return c.Brokers[i].Start() }

// Freeze sends SIGSTOP to node i: it keeps its connections and answers nothing.
func (c *Cluster) Freeze(i int) error { return c.Brokers[i].Pause() }

// Thaw sends SIGCONT to node i.
func (c *Cluster) Thaw(i int) error { return c.Brokers[i].Resume() }

// live returns the nodes running and not frozen.
func (c *Cluster) live() []*Broker {
	var out []*Broker
	for _, b := range c.Brokers {
		if b.Running() && !b.Paused() {
			out = append(out, b)
		}
	}
	return out
}

// WaitBrokers waits until every live node answers Metadata listing every running node.
func (c *Cluster) WaitBrokers(ctx context.Context) error {
	return c.waitMetadata(ctx, false)
}

// WaitISR waits until every live node answers Metadata in which every node is registered and
// unfenced, and every partition of every topic (__consumer_offsets included) has a leader and
// its full replica set in sync: the cluster is back to full redundancy.
func (c *Cluster) WaitISR(ctx context.Context) error {
	return c.waitMetadata(ctx, true)
}

func (c *Cluster) waitMetadata(ctx context.Context, isr bool) error {
	var last error
	for {
		last = c.checkMetadata(isr)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %w", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *Cluster) checkMetadata(isr bool) error {
	live := c.live()
	if len(live) == 0 {
		return errors.New("no node is running")
	}
	want := 0
	for _, b := range c.Brokers {
		if b.Running() {
			want++
		}
	}
	if isr {
		want = len(c.Brokers)
	}
	for _, b := range live {
		md, err := fetchMetadata(b.Addr)
		if err != nil {
			return fmt.Errorf("metadata from %s: %w", b.Addr, err)
		}
		if len(md.Brokers) < want {
			return fmt.Errorf("metadata from %s lists %d brokers, want %d", b.Addr, len(md.Brokers), want)
		}
		if !isr {
			continue
		}
		for _, tm := range md.Topics {
			if tm.Err != sarama.ErrNoError {
				return fmt.Errorf("metadata from %s: topic %s: %v", b.Addr, tm.Name, tm.Err)
			}
			for _, pm := range tm.Partitions {
				if pm.Leader < 0 || len(pm.Isr) < len(pm.Replicas) || len(pm.OfflineReplicas) > 0 {
					return fmt.Errorf("metadata from %s: %s/%d: leader %d, replicas %v, isr %v, offline %v",
						b.Addr, tm.Name, pm.ID, pm.Leader, pm.Replicas, pm.Isr, pm.OfflineReplicas)
				}
			}
		}
	}
	return nil
}

// fetchMetadata asks addr for the metadata of every topic (internal ones included).
func fetchMetadata(addr string) (*sarama.MetadataResponse, error) {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.ClientID = "kafkatest-probe"
	cfg.Net.DialTimeout = 2 * time.Second
	cfg.Net.ReadTimeout = 5 * time.Second
	cfg.Net.WriteTimeout = 2 * time.Second
	br := sarama.NewBroker(addr)
	if err := br.Open(cfg); err != nil {
		return nil, err
	}
	defer br.Close()
	return br.GetMetadata(sarama.NewMetadataRequest(cfg.Version, nil))
}

// Coordinator returns the index (into Brokers) of group's coordinator, asked of a live node.
func (c *Cluster) Coordinator(group string) (int, error) {
	var last error
	for _, b := range c.live() {
		cfg := sarama.NewConfig()
		cfg.Version = sarama.V2_8_0_0
		cfg.ClientID = "kafkatest-probe"
		cfg.Net.DialTimeout = 2 * time.Second
		cfg.Net.ReadTimeout = 5 * time.Second
		br := sarama.NewBroker(b.Addr)
		if err := br.Open(cfg); err != nil {
			last = err
			continue
		}
		resp, err := br.FindCoordinator(&sarama.FindCoordinatorRequest{Version: 2, CoordinatorKey: group, CoordinatorType: sarama.CoordinatorGroup})
		br.Close()
		if err == nil && resp.Err != sarama.ErrNoError {
			err = resp.Err
		}
		if err != nil {
			last = fmt.Errorf("FindCoordinator(%s) from %s: %w", group, b.Addr, err)
			continue
		}
		id := int(resp.Coordinator.ID())
		if id < 1 || id > len(c.Brokers) {
			return -1, fmt.Errorf("FindCoordinator(%s): unknown node %d", group, id)
		}
		return id - 1, nil
	}
	if last == nil {
		last = errors.New("no live node")
	}
	return -1, last
}

// Leaders returns, per topic and partition, the index (into Brokers) of the leader as a live node
// sees it (-1 for none).
func (c *Cluster) Leaders(topics ...string) (map[string]map[int32]int, error) {
	live := c.live()
	if len(live) == 0 {
		return nil, errors.New("no live node")
	}
	md, err := fetchMetadata(live[0].Addr)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, t := range topics {
		want[t] = true
	}
	out := map[string]map[int32]int{}
	for _, tm := range md.Topics {
		if len(want) > 0 && !want[tm.Name] {
			continue
		}
		out[tm.Name] = map[int32]int{}
		for _, pm := range tm.Partitions {
			out[tm.Name][pm.ID] = int(pm.Leader) - 1
		}
	}
	return out, nil
}

// Live returns a running, not frozen node (for its tools and as a bootstrap), or nil.
func (c *Cluster) Live() *Broker {
	if l := c.live(); len(l) > 0 {
		return l[0]
	}
	return nil
}
