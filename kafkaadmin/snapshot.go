package kafkaadmin

import (
	"sort"
	"strconv"
	"time"

	"github.com/IBM/sarama"
)

// GroupType is the membership protocol a consumer group uses.
type GroupType string

const (
	// GroupClassic is a group on the classic (JoinGroup/SyncGroup) protocol
	// with members, or one that had members and is now Empty.
	GroupClassic GroupType = "classic"
	// GroupConsumer is a KIP-848 group on the "consumer" protocol.
	GroupConsumer GroupType = "consumer"
	// GroupSimple is a group that only commits offsets (admin tools,
	// assign()-based consumers, Lambda before its first member): it has no
	// protocol type and never has members.
	GroupSimple GroupType = "simple"
	// GroupOther is any other group type (share, connect, ...). Its offsets
	// are reported but it is not described.
	GroupOther GroupType = "other"
)

// Offset sentinels. They may live in Go values; they never reach a metric.
const (
	// OffsetUnknown marks an offset that could not be read.
	OffsetUnknown int64 = -1
)

// Snapshot is everything one poll round learned about one cluster. It is
// immutable once returned; slices are sorted (topics and groups by name,
// partitions by id) so that output built from it is deterministic.
type Snapshot struct {
	// Cluster is the configured cluster name.
	Cluster string
	// Started and Finished bound the round in wall-clock time. Offsets were
	// read somewhere in between.
	Started, Finished time.Time
	// Brokers known from the metadata, sorted by ID.
	Brokers []Broker
	// Topics with their partitions, sorted by name. Internal topics
	// (__consumer_offsets, __transaction_state, ...) are left out.
	Topics []Topic
	// Groups with their committed offsets, sorted by name.
	//
	// A group is absent when the ListGroups of its coordinator failed (a
	// RequestError{API: "ListGroups", Broker: coordinator} is in Errors):
	// whether it still exists is unknown, which is not the same as gone.
	// A group present but whose DescribeGroups/ConsumerGroupDescribe or
	// OffsetFetch failed has DescribeErr or FetchErr set; its Offsets are
	// then empty and must not be read as "no commits". A NOT_COORDINATOR
	// or COORDINATOR_LOAD_IN_PROGRESS that persists after the one retry
	// leaves FetchErr (or DescribeErr) set, never an empty, error-free
	// offset list; so does a group listed, then described as Dead without
	// offsets (ErrGroupDead: a coordinator unloading it).
	Groups []Group
	// Errors are the failed requests of the round, each with its API name
	// and the id of the broker it was sent to (-1 for a request to no known
	// broker, such as the bootstrap): a broker that did not answer before
	// the deadline, a request that failed as a whole. Metadata attempts
	// overtaken by another broker's answer are not errors (Metadata is
	// hedged, see the package doc); a round whose Metadata failed
	// everywhere returns an error instead of a Snapshot. Errors are sorted
	// by API, then broker, then message, so that texts built from them are
	// the same from poll to poll while the failure lasts. A snapshot with
	// errors can still be partly useful; Complete tells whether it is
	// whole.
	Errors []RequestError
	// Requests counts the requests this round sent, by API name
	// ("Metadata", "ListOffsets", ...), retries included.
	Requests map[string]int
	// OffsetsRetention is the brokers' offsets.retention.minutes: how long
	// the committed offsets of a group without members are kept. It is read
	// with DescribeConfigs every Config.ConfigRefresh, not every round, so
	// it may be older than the round; 0 when it has never been read.
	OffsetsRetention time.Duration
	// ConfigErr is the error of the last DescribeConfigs, nil when it
	// succeeded. It does not make the snapshot incomplete (lag does not
	// depend on it); OffsetsRetention keeps the last value read.
	ConfigErr error
}

// Broker is one broker of the cluster.
type Broker struct {
	ID   int32
	Addr string
	Rack string
}

// Topic is one topic and its partitions.
type Topic struct {
	Name string
	// Partitions indexed by partition id: Partitions[i].ID == i.
	Partitions []Partition
}

// Partition is one partition's leader and log bounds.
type Partition struct {
	ID int32
	// Leader is the leader broker id, or -1 when the partition has none.
	Leader int32
	// Start is the log start offset (earliest), End the log end offset
	// (high watermark, or the last stable offset in read_committed mode).
	// Either is OffsetUnknown when it could not be read; StartErr and
	// EndErr say why.
	Start, End       int64
	StartErr, EndErr error
	// Err is the partition's error in the metadata (no leader, ...).
	Err error
}

// Group is one consumer group: its description and its committed offsets.
type Group struct {
	Name string
	Type GroupType
	// ProtocolType is the raw protocol type ("consumer", "connect", "" for
	// simple groups).
	ProtocolType string
	// State is the group state as the broker names it (Stable, Empty,
	// PreparingRebalance, CompletingRebalance, Dead, Assigning,
	// Reconciling, ...), or "Unknown" when it could not be described.
	State string
	// Coordinator is the id of the broker coordinating the group.
	Coordinator int32
	// Members with their assignments, sorted by member id.
	Members []Member
	// Offsets are the committed offsets, sorted by topic then partition.
	// Partitions without a commit are absent.
	Offsets []CommittedOffset
	// DescribeErr is the error of DescribeGroups/ConsumerGroupDescribe for
	// this group; FetchErr that of OffsetFetch. They are kept apart: a group
	// that could not be described may still have good offsets.
	DescribeErr, FetchErr error
}

// Member is one member of a group.
type Member struct {
	ID       string
	ClientID string
	Host     string
	// Assignment maps topic to the assigned partitions (sorted).
	Assignment map[string][]int32
}

// CommittedOffset is one committed offset of a group, in 32 bytes (a
// snapshot holds one per committed offset, millions at scale): the commit's
// metadata string is not kept (nothing reads it) and the per-partition
// error is Kafka's two-byte code, not an error interface.
type CommittedOffset struct {
	Topic     string
	Offset    int64
	Partition int32
	// Err is the per-partition error code of the OffsetFetch answer, 0
	// when none; Offset is OffsetUnknown when it is set.
	Err OffsetError
}

// OffsetError is a per-partition error code of an OffsetFetch answer
// (Kafka's protocol error code); 0 is no error. A non-zero code is an
// error.
type OffsetError int16

// Error is the code's Kafka error message.
func (e OffsetError) Error() string { return sarama.KError(e).Error() }

// RequestError is a request that failed as a whole.
type RequestError struct {
	// API is the request's API name ("ListOffsets", ...).
	API string
	// Broker is the broker id it was sent to, or -1 for the bootstrap.
	Broker int32
	Err    error
}

func (e RequestError) Error() string {
	return e.API + " to broker " + strconv.Itoa(int(e.Broker)) + ": " + e.Err.Error()
}

func (e RequestError) Unwrap() error { return e.Err }

// Complete reports whether every request of the round succeeded.
func (s *Snapshot) Complete() bool { return len(s.Errors) == 0 }

// GroupAnswerTrusted reports whether a group's answer in the snapshot can
// be taken to say that commits missing from it are gone: the snapshot is
// complete, the group was described and fetched without error, its
// coordinator is the one of the previous poll (coordinatorKnown and
// prevCoordinator, remembered by the caller), and the answer holds at
// least one commit (a coordinator that is loading or unloading the group,
// as a broker shutting down does, answers without any). The expiry
// tracker (exporter/expiry) and the carrying of lag series
// (exporter/carry.go) judge vanished commits by it.
func (s *Snapshot) GroupAnswerTrusted(g *Group, coordinatorKnown bool, prevCoordinator int32) bool {
	return s.Complete() && g.DescribeErr == nil && g.FetchErr == nil &&
		coordinatorKnown && prevCoordinator == g.Coordinator && len(g.Offsets) > 0
}

// TopicByName returns the topic with that name, using binary search over
// the sorted Topics.
func (s *Snapshot) TopicByName(name string) (*Topic, bool) {
	i := sort.Search(len(s.Topics), func(i int) bool { return s.Topics[i].Name >= name })
	if i < len(s.Topics) && s.Topics[i].Name == name {
		return &s.Topics[i], true
	}
	return nil, false
}

// TotalRequests is the sum of Requests.
func (s *Snapshot) TotalRequests() int {
	n := 0
	for _, c := range s.Requests {
		n += c
	}
	return n
}
