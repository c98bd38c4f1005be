package kafkaadmin_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// fixture is a kfake cluster filled with known data:
//
//	orders   6 partitions, partition p holds 10+p records
//	payments 4 partitions, partition p holds 5+p records
//	audit    2 partitions, 8 records each; records below 5 of partition 0 deleted
//
// and groups:
//
//	simple-all  simple group, every orders partition committed at end-3
//	partial     simple group, orders partitions 0 and 1 committed at 2
//	beyond      simple group, payments 0 committed at end+100
//	retained    simple group, audit 0 committed at 2 (below the log start 5)
//	live        classic group with one live member on payments, caught up
type fixture struct {
	cluster *kfaketest.Cluster
	ends    map[string][]int64
}

func newFixture(t *testing.T, opts ...kfake.Opt) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts = append([]kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(6, "orders"), kfake.SeedTopics(4, "payments"),
		kfake.SeedTopics(2, "audit")}, opts...)
	c := kfaketest.New(t, opts...)
	f := &fixture{cluster: c, ends: map[string][]int64{}}

	produce := func(topic string, partitions int, count func(p int) int) {
		f.ends[topic] = make([]int64, partitions)
		var rs []*kgo.Record
		for p := 0; p < partitions; p++ {
			for i := 0; i < count(p); i++ {
				rs = append(rs, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(fmt.Sprint(i))})
			}
			f.ends[topic][p] = int64(count(p))
		}
		c.ProduceRecords(t, rs...)
	}
	produce("orders", 6, func(p int) int { return 10 + p })
	produce("payments", 4, func(p int) int { return 5 + p })
	produce("audit", 2, func(int) int { return 8 })

	commit := func(group string, os kadm.Offsets) { c.CommitOffsets(t, group, os) }
	os := kadm.Offsets{}
	for p := 0; p < 6; p++ {
		os.Add(kadm.Offset{Topic: "orders", Partition: int32(p), At: f.ends["orders"][p] - 3, LeaderEpoch: -1})
	}
	commit("simple-all", os)
	os = kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 2, LeaderEpoch: -1})
	os.Add(kadm.Offset{Topic: "orders", Partition: 1, At: 2, LeaderEpoch: -1})
	commit("partial", os)
	os = kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "payments", Partition: 0, At: f.ends["payments"][0] + 100, LeaderEpoch: -1})
	commit("beyond", os)
	os = kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "audit", Partition: 0, At: 2, LeaderEpoch: -1})
	commit("retained", os)
	c.DeleteRecords(t, "audit", 0, 5)

	// A live classic member that consumes payments to the end and commits.
	live, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumerGroup("live"),
		kgo.ConsumeTopics("payments"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(live.Close)
	want := 0
	for _, e := range f.ends["payments"] {
		want += int(e)
	}
	got := 0
	for got < want {
		fs := live.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("live consumer: got %d of %d records: %v", got, want, err)
		}
		got += fs.NumRecords()
	}
	if err := live.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("live commit: %v", err)
	}
	return f
}

func (f *fixture) client(t *testing.T, mod func(*kafkaadmin.Config)) *kafkaadmin.Client {
	t.Helper()
	cfg := kafkaadmin.Config{Name: "test", Brokers: f.cluster.ListenAddrs()}
	if mod != nil {
		mod(&cfg)
	}
	c, err := kafkaadmin.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func snapshot(t *testing.T, c *kafkaadmin.Client) *kafkaadmin.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if !s.Complete() {
		t.Fatalf("snapshot has errors: %v", s.Errors)
	}
	return s
}

func group(t *testing.T, s *kafkaadmin.Snapshot, name string) kafkaadmin.Group {
	t.Helper()
	for _, g := range s.Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("group %q not in snapshot (have %d groups)", name, len(s.Groups))
	return kafkaadmin.Group{}
}

func offsets(g kafkaadmin.Group) map[string]int64 {
	m := map[string]int64{}
	for _, o := range g.Offsets {
		m[fmt.Sprintf("%s/%d", o.Topic, o.Partition)] = o.Offset
	}
	return m
}

// wantGroups are the fixture's groups as a snapshot must show them.
var wantGroups = []struct {
	group   string
	typ     kafkaadmin.GroupType
	state   string
	members int
	offsets map[string]int64
}{
	{"simple-all", kafkaadmin.GroupSimple, "Empty", 0, map[string]int64{
		"orders/0": 7, "orders/1": 8, "orders/2": 9, "orders/3": 10, "orders/4": 11, "orders/5": 12}},
	{"partial", kafkaadmin.GroupSimple, "Empty", 0, map[string]int64{"orders/0": 2, "orders/1": 2}},
	{"beyond", kafkaadmin.GroupSimple, "Empty", 0, map[string]int64{"payments/0": 105}},
	{"retained", kafkaadmin.GroupSimple, "Empty", 0, map[string]int64{"audit/0": 2}},
	{"live", kafkaadmin.GroupClassic, "Stable", 1, map[string]int64{
		"payments/0": 5, "payments/1": 6, "payments/2": 7, "payments/3": 8}},
}

func checkSnapshot(t *testing.T, f *fixture, s *kafkaadmin.Snapshot) {
	t.Helper()
	if len(s.Brokers) != 3 {
		t.Errorf("brokers = %d, want 3", len(s.Brokers))
	}
	if len(s.Topics) != 3 {
		t.Fatalf("topics = %d, want 3: %+v", len(s.Topics), s.Topics)
	}
	for _, tp := range s.Topics {
		ends := f.ends[tp.Name]
		if len(tp.Partitions) != len(ends) {
			t.Fatalf("%s: %d partitions, want %d", tp.Name, len(tp.Partitions), len(ends))
		}
		for _, p := range tp.Partitions {
			wantStart := int64(0)
			if tp.Name == "audit" && p.ID == 0 {
				wantStart = 5
			}
			if p.End != ends[p.ID] || p.Start != wantStart || p.Err != nil || p.StartErr != nil || p.EndErr != nil {
				t.Errorf("%s/%d: start %d end %d (errs %v %v %v), want start %d end %d",
					tp.Name, p.ID, p.Start, p.End, p.Err, p.StartErr, p.EndErr, wantStart, ends[p.ID])
			}
		}
	}

	tests := wantGroups
	for _, tt := range tests {
		t.Run(tt.group, func(t *testing.T) {
			g := group(t, s, tt.group)
			if g.DescribeErr != nil || g.FetchErr != nil {
				t.Fatalf("errors: describe %v fetch %v", g.DescribeErr, g.FetchErr)
			}
			if g.Type != tt.typ || g.State != tt.state || len(g.Members) != tt.members {
				t.Errorf("type %s state %s members %d, want %s %s %d", g.Type, g.State, len(g.Members), tt.typ, tt.state, tt.members)
			}
			got := offsets(g)
			if fmt.Sprint(got) != fmt.Sprint(tt.offsets) {
				t.Errorf("offsets %v, want %v", got, tt.offsets)
			}
		})
	}
	live := group(t, s, "live")
	if len(live.Members) == 1 && fmt.Sprint(live.Members[0].Assignment) != "map[payments:[0 1 2 3]]" {
		t.Errorf("live assignment = %v", live.Members[0].Assignment)
	}
}

func TestSnapshotValues(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, nil)
	checkSnapshot(t, f, snapshot(t, c)) // warm-up: connections, ApiVersions
	s := snapshot(t, c)
	checkSnapshot(t, f, s)

	// Every group sits on one of 3 coordinators; each broker leads some
	// partitions. Bound: 3 x brokers + 3 x coordinators.
	coords := map[int32]bool{}
	for _, g := range s.Groups {
		coords[g.Coordinator] = true
	}
	limit := 3*len(s.Brokers) + 3*len(coords)
	if n := s.TotalRequests(); n > limit {
		t.Errorf("requests after warm-up = %d (%v), want <= %d", n, s.Requests, limit)
	}
	want := map[string]int{"Metadata": 1, "ListGroups": 3}
	for api, n := range want {
		if s.Requests[api] != n {
			t.Errorf("%s requests = %d, want %d", api, s.Requests[api], n)
		}
	}
	if s.Requests["OffsetFetch"] != len(coords) {
		t.Errorf("OffsetFetch requests = %d, want one per coordinator (%d)", s.Requests["OffsetFetch"], len(coords))
	}
	if s.Requests["ListOffsets"] > 2*len(s.Brokers) {
		t.Errorf("ListOffsets requests = %d, want <= 2 per broker", s.Requests["ListOffsets"])
	}
	if s.Requests["ApiVersions"] != 0 {
		t.Errorf("ApiVersions sent again after warm-up: %d", s.Requests["ApiVersions"])
	}
	t.Logf("requests per poll: %v (total %d, limit %d)", s.Requests, s.TotalRequests(), limit)
}

func TestSnapshotOldBroker(t *testing.T) {
	f := newFixture(t, kfake.MaxVersions(kversion.V2_8_0()))
	c := f.client(t, func(cfg *kafkaadmin.Config) { cfg.Version = "2.8.0" })
	snapshot(t, c)
	s := snapshot(t, c)
	checkSnapshot(t, f, s)
	// OffsetFetch v8 does not exist before 3.0: one request per group.
	if got := s.Requests["OffsetFetch"]; got != len(s.Groups) {
		t.Errorf("OffsetFetch requests = %d, want one per group (%d)", got, len(s.Groups))
	}
}

func TestSnapshotFilters(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, func(cfg *kafkaadmin.Config) {
		cfg.IncludeGroup = func(g string) bool { return g == "live" }
		cfg.IncludeTopic = func(tp string) bool { return tp != "audit" }
	})
	s := snapshot(t, c)
	if len(s.Groups) != 1 || s.Groups[0].Name != "live" {
		t.Errorf("groups = %+v, want only live", s.Groups)
	}
	if _, ok := s.TopicByName("audit"); ok || len(s.Topics) != 2 {
		t.Errorf("topics = %d (audit present: %v), want 2 without audit", len(s.Topics), ok)
	}
}

func TestSnapshotUnreachable(t *testing.T) {
	c, err := kafkaadmin.New(kafkaadmin.Config{Name: "down", Brokers: []string{"127.0.0.1:1"},
		DialTimeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Snapshot(ctx); err == nil {
		t.Fatal("snapshot of an unreachable cluster succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  kafkaadmin.Config
		ok   bool
	}{
		{"minimal", kafkaadmin.Config{Name: "a", Brokers: []string{"h:9092"}}, true},
		{"no brokers", kafkaadmin.Config{Name: "a"}, false},
		{"no port", kafkaadmin.Config{Name: "a", Brokers: []string{"h"}}, false},
		{"no name", kafkaadmin.Config{Brokers: []string{"h:1"}}, false},
		{"old version", kafkaadmin.Config{Name: "a", Brokers: []string{"h:1"}, Version: "2.0.0"}, false},
		{"bad version", kafkaadmin.Config{Name: "a", Brokers: []string{"h:1"}, Version: "x"}, false},
		{"bad isolation", kafkaadmin.Config{Name: "a", Brokers: []string{"h:1"}, Isolation: "dirty"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kafkaadmin.New(tt.cfg, nil)
			if (err == nil) != tt.ok {
				t.Errorf("New() error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
