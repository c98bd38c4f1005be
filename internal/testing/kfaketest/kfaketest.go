// Package kfaketest is the tests' one in-process Kafka fixture: a kfake
// cluster (github.com/twmb/franz-go/pkg/kfake) with a franz-go client that
// produces to the partition each record names and an admin client on it,
// all closed when the test ends, and helpers that fail the test on any
// error: produce records, commit a group's offsets, delete records, open a
// kafkaadmin client (the exporter's Source) on the cluster.
//
// For tests only (internal/testing): product code never imports it.
package kfaketest

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// Timeout bounds each helper's requests.
const Timeout = 30 * time.Second

// Cluster is a running kfake cluster and its clients.
type Cluster struct {
	*kfake.Cluster
	// Client produces to the partition each record names
	// (kgo.ManualPartitioner), and commits.
	Client *kgo.Client
	// Admin is a kadm client over Client.
	Admin *kadm.Client
}

// New starts a cluster with opts (kfake's default is 3 brokers: pass
// kfake.NumBrokers to choose) and its clients; t.Cleanup closes them, the
// clients first.
func New(t testing.TB, opts ...kfake.Opt) *Cluster {
	t.Helper()
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	kc := &Cluster{Cluster: c}
	kc.Reconnect(t)
	return kc
}

// Reconnect replaces Client and Admin by new ones (a topic recreated or
// grown behind a client's back confuses its cached metadata); t.Cleanup
// closes the old and the new.
func (c *Cluster) Reconnect(t testing.TB) {
	t.Helper()
	c.Client = c.NewClient(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	c.Admin = kadm.NewClient(c.Client)
}

// ExpiringOffsets makes the brokers expire committed offsets after
// retention (offset.retention.ms), checking every 250 ms: offset expiry
// within a test's time.
func ExpiringOffsets(retention time.Duration) kfake.Opt {
	return kfake.BrokerConfigs(map[string]string{
		"offset.retention.ms":                 strconv.FormatInt(retention.Milliseconds(), 10),
		"offsets.retention.check.interval.ms": "250",
	})
}

// Source returns a kafkaadmin client of the cluster named name (the
// exporter's Source, as the exporter binary builds it from a cluster's
// config); t.Cleanup closes it.
func (c *Cluster) Source(t testing.TB, name string) *kafkaadmin.Client {
	t.Helper()
	ac, err := kafkaadmin.New(kafkaadmin.Config{Name: name, Brokers: c.ListenAddrs()}, nil)
	if err != nil {
		t.Fatalf("kafkaadmin client of %s: %v", name, err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	return ac
}

// NewClient returns another client of the cluster with opts (a consumer,
// say); t.Cleanup closes it.
func (c *Cluster) NewClient(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Member joins group as a classic consumer of topics from their start,
// reads at least n records (failing t on a fetch error or after Timeout) and
// returns the client, still a member with its reads not yet committed
// (CommitUncommittedOffsets, then Close to leave: the group is Empty).
// t.Cleanup closes it too.
func (c *Cluster) Member(t testing.TB, group string, n int, topics ...string) *kgo.Client {
	t.Helper()
	cons := c.NewClient(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	for read := 0; read < n; {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("%s: %d of %d records read: %v", group, read, n, err)
		}
		read += fs.NumRecords()
	}
	return cons
}

// KeepUp starts a member of group that reads topics from their start and
// commits every 300 ms, and a producer that writes the records next(i), i =
// 0, 1, ..., every interval (errors ignored: a test may stop the cluster
// under it): a group that keeps up with its topics. stop ends both and
// closes the member, and fails t if not one batch was produced (a group
// that kept up with nothing proves nothing); t.Cleanup calls it too.
func (c *Cluster) KeepUp(t testing.TB, group string, topics []string, interval time.Duration, next func(i int) []*kgo.Record) (stop func()) {
	t.Helper()
	member, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AutoCommitInterval(300*time.Millisecond))
	if err != nil {
		t.Fatalf("kfake client: %v", err)
	}
	producer := c.Client
	var produced atomic.Int64
	stopBoth := testenv.Go(t, func(ctx context.Context) {
		defer member.Close()
		for ctx.Err() == nil {
			member.PollFetches(ctx)
		}
	}, func(ctx context.Context) {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if producer.ProduceSync(ctx, next(i)...).FirstErr() == nil {
					produced.Add(1)
				}
			}
		}
	})
	var once sync.Once
	stop = func() {
		stopBoth()
		once.Do(func() {
			if produced.Load() == 0 {
				t.Errorf("kfaketest: KeepUp(%s): no batch of records was produced before stop", group)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// Produce writes n records with value "x" to topic/partition and waits for
// every acknowledgement.
func (c *Cluster) Produce(t testing.TB, topic string, partition int32, n int) {
	t.Helper()
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Partition: partition, Value: []byte("x")}
	}
	c.ProduceRecords(t, rs...)
}

// ProduceRecords writes rs (each to its own Topic and Partition) and waits
// for every acknowledgement.
func (c *Cluster) ProduceRecords(t testing.TB, rs ...*kgo.Record) {
	t.Helper()
	if len(rs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := c.Client.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// Commit commits offsets (partition -> offset) of topic for group, as a
// consumer outside the group would (no generation), and fails t if any
// partition is refused.
func (c *Cluster) Commit(t testing.TB, group, topic string, offsets map[int32]int64) {
	t.Helper()
	os := kadm.Offsets{}
	for p, at := range offsets {
		os.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
	}
	c.CommitOffsets(t, group, os)
}

// CommitOffsets commits os for group and fails t if any partition is refused.
func (c *Cluster) CommitOffsets(t testing.TB, group string, os kadm.Offsets) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	resp, err := c.Admin.CommitOffsets(ctx, group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit %s: %v", group, err)
	}
}

// DeleteRecords deletes the records of topic/partition before offset (the
// log start moves up to it).
func (c *Cluster) DeleteRecords(t testing.TB, topic string, partition int32, before int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: topic, Partition: partition, At: before, LeaderEpoch: -1})
	resp, err := c.Admin.DeleteRecords(ctx, del)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("delete records of %s/%d before %d: %v", topic, partition, before, err)
	}
}
