// Package kafkaadmin is the only part of the exporter that speaks the Kafka
// protocol. It owns every admin request the exporter sends and turns the
// answers into plain, sarama-free Snapshot values.
//
// One call to Client.Snapshot performs one poll round against one cluster:
//
//   - one Metadata request (brokers, topics, partitions, leaders);
//   - ListOffsets (latest, and earliest for the log start) batched per leader
//     broker, every broker in parallel;
//   - ListGroups on every broker (each broker lists the groups it coordinates,
//     so this also tells us each group's coordinator without FindCoordinator);
//   - DescribeGroups batched per coordinator for classic groups, and
//     ConsumerGroupDescribe for KIP-848 ("consumer" type) groups;
//   - OffsetFetch for many groups in one request per coordinator (v8+),
//     falling back to one request per group on brokers older than 3.0.
//
// All requests of a round share one deadline (the context). A partition
// answering NOT_LEADER_OR_FOLLOWER (or without a leader) refreshes the
// metadata and is asked again once; a group answering NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS or COORDINATOR_NOT_AVAILABLE is listed again
// and retried once. Errors are kept apart by where they happened: a failed
// request (RequestError in Snapshot.Errors), a failed partition
// (Partition.Err), a failed group describe (Group.DescribeErr) and a failed
// offset fetch (Group.FetchErr), so that a consumer of the snapshot can still
// use everything that did succeed.
//
// # One bad broker costs only what it owns
//
// Metadata can come from any broker, so it is hedged: the known brokers that
// answered in the last round are asked first (by id), then the others (by
// id), then the bootstrap addresses (the one that answered last time first,
// then as configured). The first is asked at once; the next when the
// previous attempts failed or stayed unanswered for Config.AttemptTimeout
// (at most a quarter of what remains of the deadline, so every broker is
// asked before it). The first answer wins. A healthy broker answers within
// the attempt timeout, so a healthy round sends one Metadata; a broker that
// accepts connections and never answers delays the round by one attempt
// timeout, and only until it is known not to answer.
//
// Every other request goes to the one broker that holds the data, so it is
// not hedged; instead no broker waits for another. ListOffsets runs per
// leader in parallel, and the group requests are one pipeline per broker:
// its ListGroups, then at once the DescribeGroups, ConsumerGroupDescribe and
// OffsetFetch of the groups it coordinates. A broker that does not answer
// costs the partitions it leads (Partition.EndErr/StartErr) and the groups
// it coordinates (absent from Snapshot.Groups, its ListGroups failure in
// Snapshot.Errors); everything else is complete when the round returns at
// its deadline. Requests to one broker use a few connections (lanes, see
// client.go); a request abandoned at a deadline keeps its lane until it is
// answered, and later rounds wait for the lane only until their own
// deadline.
//
// Request bound: a healthy round sends 1 Metadata, 2 ListOffsets per leader,
// 1 ListGroups per broker, and per coordinator 1 DescribeGroups, 1
// ConsumerGroupDescribe (when it has KIP-848 groups) and 1 OffsetFetch per
// 1,000 groups: at most 3 x brokers + 3 x coordinators (scale_test.go).
// Retries add 1 Metadata and the ListOffsets of the partitions that moved,
// or 1 ListGroups per broker for groups whose coordinator moved; hedging
// adds 1 Metadata per attempt timeout that passes without an answer.
//
// Lifecycle: New validates the configuration and makes no connection; the
// first Snapshot connects; Close releases every connection.
package kafkaadmin
