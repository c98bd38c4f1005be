package result

import "time"

// Result is the immutable outcome of the latest poll of every cluster. The
// exporter stores it behind an atomic pointer; sinks (Prometheus, CloudWatch,
// the status page) read it and never trigger a Kafka request. Slices are
// sorted (clusters, topics, groups by name; partitions by id).
type Result struct {
	// Generated is when this Result was assembled.
	Generated time.Time
	Clusters  []ClusterResult
}

// ClusterResult is one cluster as of its last poll.
type ClusterResult struct {
	Name string
	// Up is true when the last poll succeeded (every request answered).
	Up bool
	// LastError is the reason the last poll failed, empty when Up.
	LastError string
	// LastPoll is when the last poll finished; LastSuccess when the last
	// successful one finished (zero if none yet). Data below is from the
	// last successful poll and may be older than LastPoll.
	LastPoll, LastSuccess time.Time
	// PollDuration is how long the last poll took, from its first request
	// to the end of the math (lag, expiry, trends); PollPhases split it.
	PollDuration time.Duration
	PollPhases   []PollPhase
	// Counters since start.
	Requests   map[string]uint64 // Kafka requests sent, by API name
	PollErrors uint64            // polls that failed
	Polls      uint64            // polls attempted

	Brokers int
	// BrokerHealth is each broker's health as of the last poll, sorted by
	// id: the brokers in the metadata (the last known ones when the poll
	// read none) and any other broker a request failed on.
	BrokerHealth []BrokerHealth
	Topics       []TopicResult
	Groups       []GroupResult
	// OldestRead is when the oldest value in Topics and Groups was read:
	// the end of the poll that read it. It is LastPoll when the last poll
	// read everything; values a partial poll could not read are carried
	// from their last good read for at most Options.StaleAfter (carry.go).
	// Zero before the first poll that read anything.
	OldestRead time.Time

	// OffsetsRetention is the committed-offset retention used for expiry
	// predictions (Kafka's offsets.retention.minutes) and
	// OffsetsRetentionSource where it came from: "config" (the cluster's
	// offsets-retention override), "broker" (DescribeConfigs) or "default"
	// (Kafka's default of 7 days, when neither is known).
	OffsetsRetention       time.Duration
	OffsetsRetentionSource string
	// Expiry is the committed-offset expiry view of every group the expiry
	// tracker knows, sorted by group: groups listed by the last poll, groups
	// gone whose offsets expired (until pruned, one retention later) and
	// expected groups from the configuration, seen or not. See expiry.go
	// for the rules.
	Expiry []GroupExpiry
}

// PollPhase is one part of a poll and how long it took. Phases, in order:
// requests (the kafkaadmin round), lag (lag and log bounds), expiry (the
// expiry tracker), trends (time lag, status windows, rates) and
// record_times (the exact time-lag Fetches made by trends).
type PollPhase struct {
	Phase    string
	Duration time.Duration
}

// GroupExpiry is one group's committed-offset expiry state as of the last
// poll.
type GroupExpiry struct {
	Group string
	// Type (classic, consumer, simple, other) and State are as last seen;
	// empty for an expected group never seen.
	Type, State string
	// Present is true when the group was listed by the last poll.
	Present bool
	// Expected is true when the group is listed in the configuration;
	// StartingPosition is then its configured starting position
	// (earliest, latest, timestamp; empty when not configured).
	Expected         bool
	StartingPosition string
	// Missing is true for an expected group that has no committed offset at
	// all as of the last complete poll (never created, deleted or expired):
	// its consumer will start from its StartingPosition.
	Missing bool
	// EmptySince is the first poll that saw the (classic or KIP-848) group
	// Empty, zero when it is not Empty. EmptySinceExact is false when that
	// poll was not the one right after a poll that saw it with members (the
	// group was already Empty when first seen, or the exporter was down):
	// the group may have been Empty for longer.
	EmptySince      time.Time
	EmptySinceExact bool
	// ExpiresAt is when the broker is predicted to delete the first of the
	// group's committed offsets (the earliest Topics[i].ExpiresAt), zero
	// when no expiry clock is running (the group has members).
	// ExpiresIn is ExpiresAt minus the poll time, at least 0.
	ExpiresAt time.Time
	ExpiresIn time.Duration
	// Topics are the topics the group has (or had) commits on, and the
	// configured topics of an expected group, sorted by name.
	Topics []TopicExpiry
	// Lambda are the Lambda event source mappings that consume with this
	// group id (an expected group fed by discovery/lambdaesm), with
	// ExpiresWithinHorizon evaluated as of the poll.
	Lambda []LambdaESM
}

// LambdaESM is a Lambda event source mapping (ESM) consuming with a group
// id. It is given with the ExpectedGroup and comes back in GroupExpiry.
type LambdaESM struct {
	// Region, FunctionName (from the function ARN), FunctionARN and UUID
	// identify the mapping.
	Region, FunctionName, FunctionARN, UUID string
	// State as Lambda names it: Creating, Enabling, Enabled, Disabling,
	// Disabled, Updating, Deleting.
	State string
	// StartingPosition is Lambda's StartingPosition mapped to the
	// exporter's (as in GroupExpiry): TRIM_HORIZON earliest, LATEST
	// latest, AT_TIMESTAMP timestamp (at StartingPositionTimestamp); empty
	// when unknown.
	StartingPosition          string
	StartingPositionTimestamp time.Time
	// Horizon: a Disabled or Disabling mapping whose group's offsets are
	// predicted to expire within it is flagged (0: never).
	Horizon time.Duration
	// ExpiresWithinHorizon (set in GroupExpiry) is true when the mapping is
	// Disabled or Disabling and the group's committed offsets are predicted
	// to expire within Horizon of the poll (not yet expired): enabled after
	// that, the function starts from its StartingPosition.
	ExpiresWithinHorizon bool
}

// TopicExpiry is one group's committed offsets on one topic, for expiry.
type TopicExpiry struct {
	Topic string
	// LastCommitChange is the first poll that saw the group's commits on the
	// topic as they are now (zero for a configured topic never seen).
	LastCommitChange time.Time
	// ExpiresAt is when the broker is predicted to delete these commits,
	// zero when no expiry clock is running.
	ExpiresAt time.Time
	// Expired is true once commits seen before (or expected by the
	// configuration) are gone at or after their predicted expiry; ExpiredAt
	// is the poll that saw them gone. It stays true until the group commits
	// on the topic again.
	Expired   bool
	ExpiredAt time.Time
	// RecordsAtRisk is what a consumer restarting without these commits
	// would do, by starting position; present while an expiry clock runs
	// and once expired. See RecordsAtRisk.
	RecordsAtRisk []RecordsAtRisk
}

// RecordsAtRisk is the impact of losing a group's commits on a topic for a
// consumer starting at StartingPosition:
//
//   - earliest: records it would process again, the sum over partitions of
//     the last committed offset, clamped to the log [start, end], minus log
//     start (log end minus log start when no commit was ever seen);
//   - latest: records it would skip, the sum over partitions of log end
//     minus the last committed offset clamped to [start, end].
//
// Both count only records the retained log holds (see exporter/expiry).
// timestamp positions are not estimated.
type RecordsAtRisk struct {
	StartingPosition string
	Records          int64
}

// TopicResult is one topic's partitions and their log bounds.
type TopicResult struct {
	Name       string
	Partitions []PartitionOffsets
}

// PartitionOffsets are one partition's log start and end offsets. HasStart
// and HasEnd are false when the offset could not be read: no series then.
type PartitionOffsets struct {
	Partition        int32
	Start, End       int64
	HasStart, HasEnd bool
}

// BrokerHealth is one broker's health in a poll.
type BrokerHealth struct {
	ID int32
	// Up is false when a request to the broker failed in the last poll
	// (every known broker when the poll read nothing at all).
	Up bool
	// Failed are the APIs whose request to the broker failed, sorted.
	Failed []string
}

// GroupResult is one consumer group's state and lag.
type GroupResult struct {
	Name string
	// ReadAt is when the group's data was read: the end of the last poll,
	// or of an earlier one for data carried because the last poll could
	// not read it (its coordinator did not answer, its OffsetFetch failed,
	// ...; see carry.go).
	ReadAt time.Time
	// Type is classic, consumer (KIP-848), simple or other.
	Type string
	// State as named by the broker, or Unknown.
	State   string
	Members int
	// SumLag and MaxLag over every partition with a commit.
	SumLag, MaxLag int64
	// PartitionsWithoutCommit counts partitions of the group's topics that
	// have no committed offset (no lag series is exported for them).
	PartitionsWithoutCommit int
	// OutOfRange counts partitions whose commit is below the log start;
	// RecordsLost sums log start - committed over them.
	OutOfRange  int
	RecordsLost int64
	// MaxLagSeconds is the largest partition time lag; HasLagSeconds is
	// false when no partition has one (timelag.go).
	MaxLagSeconds float64
	HasLagSeconds bool
	// Status is the worst partition status (status.go), or ERR when the
	// group's offsets could not be read.
	Status string
	Topics []GroupTopicResult
}

// GroupTopicResult is one group's lag on one topic.
type GroupTopicResult struct {
	Topic                   string
	SumLag, MaxLag          int64
	PartitionsWithoutCommit int
	OutOfRange              int
	RecordsLost             int64
	MaxLagSeconds           float64
	HasLagSeconds           bool
	Status                  string
	// ProduceRate and ConsumeRate are records/s over the status window
	// (HasRates false until two polls). CatchUpSeconds is the time to
	// reach the log end at those rates; HasCatchUp is false when the
	// consumer is not gaining.
	ProduceRate, ConsumeRate float64
	HasRates                 bool
	CatchUpSeconds           float64
	HasCatchUp               bool
	Partitions               []PartitionLag
}

// PartitionLag is one committed partition of a group.
type PartitionLag struct {
	Partition int32
	// HasLag is false when the end offset is unknown (then no lag series
	// is exported).
	HasLag bool
	// OutOfRange is true when Committed < log start; RecordsLost is then
	// log start - Committed.
	OutOfRange bool
	// LagSecondsSource says how LagSeconds was obtained (caught_up,
	// interpolated, exact); LagSourceNone when there is none.
	LagSecondsSource LagSource
	// Status by the status rules (exporter/status); 0 when none.
	Status    Status
	Committed int64
	// End is the log end offset used for Lag.
	End         int64
	Lag         int64
	RecordsLost int64
	// LagSeconds is the age of the record at the committed offset
	// (0 when caught up).
	LagSeconds float64
}

// Lag is records between a committed offset and the log end, clamped at 0:
// the two offsets are read by different requests, so a commit can be seen
// ahead of the end it was compared with (or be beyond it for real, after a
// topic was recreated). Negative lag is never reported.
func Lag(end, committed int64) int64 {
	if committed >= end {
		return 0
	}
	return end - committed
}

// OutOfRange reports whether a committed offset is below the log start,
// and how many records were deleted by retention before the group read
// them. A consumer resuming there resets to its auto.offset.reset
// (Lambda: StartingPosition).
func OutOfRange(start, committed int64) (bool, int64) {
	if start < 0 || committed >= start {
		return false, 0
	}
	return true, start - committed
}
