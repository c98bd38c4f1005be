package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Size is one cluster shape: Topics x PartsPerTopic partitions, Groups
// groups each committing on CommitTopics topics (every partition of each).
type Size struct {
	Name          string
	Topics        int
	PartsPerTopic int
	Groups        int
	CommitTopics  int
}

// Partitions is the partition count.
func (s Size) Partitions() int { return s.Topics * s.PartsPerTopic }

// Offsets is the committed-offset count.
func (s Size) Offsets() int { return s.Groups * s.CommitTopics * s.PartsPerTopic }

// Sizes are issue 10's S, M and L and issue 16's XL.
var Sizes = []Size{
	{Name: "S", Topics: 20, PartsPerTopic: 100, Groups: 50, CommitTopics: 2},     // 2,000 partitions, 10,000 offsets
	{Name: "M", Topics: 100, PartsPerTopic: 100, Groups: 500, CommitTopics: 2},   // 10,000 partitions, 100,000 offsets
	{Name: "L", Topics: 1000, PartsPerTopic: 100, Groups: 5000, CommitTopics: 2}, // 100,000 partitions, 1,000,000 offsets
	// XL is issue 16's 4M size: 100,000 partitions, 2,000 groups on 2
	// topics of 1,000 partitions each.
	{Name: "XL", Topics: 100, PartsPerTopic: 1000, Groups: 2000, CommitTopics: 2}, // 100,000 partitions, 4,000,000 offsets
}

// SizeByName returns the named size.
func SizeByName(name string) (Size, bool) {
	for _, s := range Sizes {
		if s.Name == name {
			return s, true
		}
	}
	return Size{}, false
}

// NumBrokers is the broker count of every cluster.
const NumBrokers = 3

// Cluster is a kfake cluster filled for a Size, with a request counter and
// a latency knob.
type Cluster struct {
	Size  Size
	Fake  *kfake.Cluster
	Build time.Duration

	counts  [256]atomic.Int64
	latency atomic.Int64 // nanoseconds added to every request
}

// End is the log end offset of partition p of topic ti: 1 to 3 records.
func End(ti, p int) int64 { return int64((ti+p)%3 + 1) }

// TopicName is the name of topic ti.
func TopicName(ti int) string { return fmt.Sprintf("topic-%04d", ti) }

// GroupName is the name of group g.
func GroupName(g int) string { return fmt.Sprintf("group-%05d", g) }

// NewCluster builds and fills a cluster: End(ti, p) records per partition,
// and group g committing at (g+p) % (End+1) on CommitTopics topics.
func NewCluster(ctx context.Context, s Size) (*Cluster, error) {
	start := time.Now()
	names := make([]string, s.Topics)
	for i := range names {
		names[i] = TopicName(i)
	}
	fc, err := kfake.NewCluster(kfake.NumBrokers(NumBrokers), kfake.SeedTopics(int32(s.PartsPerTopic), names...))
	if err != nil {
		return nil, err
	}
	c := &Cluster{Size: s, Fake: fc}
	cl, err := kgo.NewClient(kgo.SeedBrokers(fc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		fc.Close()
		return nil, err
	}
	defer cl.Close()
	var rs []*kgo.Record
	for ti, name := range names {
		for p := 0; p < s.PartsPerTopic; p++ {
			for k := int64(0); k < End(ti, p); k++ {
				rs = append(rs, &kgo.Record{Topic: name, Partition: int32(p)})
			}
		}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		fc.Close()
		return nil, fmt.Errorf("produce: %w", err)
	}
	adm := kadm.NewClient(cl)
	for g := 0; g < s.Groups; g++ {
		os := kadm.Offsets{}
		for k := 0; k < s.CommitTopics; k++ {
			ti := (g + k*37) % s.Topics
			for p := 0; p < s.PartsPerTopic; p++ {
				at := int64(g+p) % (End(ti, p) + 1)
				os.Add(kadm.Offset{Topic: names[ti], Partition: int32(p), At: at, LeaderEpoch: -1})
			}
		}
		if err := adm.CommitAllOffsets(ctx, GroupName(g), os); err != nil {
			fc.Close()
			return nil, fmt.Errorf("commit %s: %w", GroupName(g), err)
		}
	}
	// Count (and delay) every request from now on. The hook never handles
	// the request: kfake answers it as usual, after the sleep. SleepControl
	// yields, so other connections are served meanwhile.
	fc.Control(func(req kmsg.Request) (kmsg.Response, error, bool) {
		fc.KeepControl()
		c.counts[uint8(req.Key())].Add(1)
		if d := time.Duration(c.latency.Load()); d > 0 {
			fc.SleepControl(func() { time.Sleep(d) })
		}
		return nil, nil, false
	})
	c.Build = time.Since(start)
	return c, nil
}

// Addrs are the brokers' addresses.
func (c *Cluster) Addrs() []string { return c.Fake.ListenAddrs() }

// SetLatency delays every request by d (0: none).
func (c *Cluster) SetLatency(d time.Duration) { c.latency.Store(int64(d)) }

// ResetCounts zeroes the request counters.
func (c *Cluster) ResetCounts() {
	for i := range c.counts {
		c.counts[i].Store(0)
	}
}

// Counts returns the requests received since the last reset, by API name.
func (c *Cluster) Counts() map[string]int64 {
	out := map[string]int64{}
	for i := range c.counts {
		if n := c.counts[i].Load(); n > 0 {
			out[kmsg.NameForKey(int16(i))] = n
		}
	}
	return out
}

// Close shuts the cluster down.
func (c *Cluster) Close() { c.Fake.Close() }

func (c *Cluster) latencyName() string {
	if d := time.Duration(c.latency.Load()); d > 0 {
		return d.String()
	}
	return "0"
}
