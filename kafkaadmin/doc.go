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
// All requests of a round share one deadline (the context). Per-partition
// errors NOT_LEADER_OR_FOLLOWER and NOT_COORDINATOR refresh the metadata and
// are retried once. Errors are kept apart by where they happened: a failed
// request (RequestError in Snapshot.Errors), a failed partition
// (Partition.Err), a failed group describe (Group.DescribeErr) and a failed
// offset fetch (Group.FetchErr), so that a consumer of the snapshot can still
// use everything that did succeed.
//
// Lifecycle: New validates the configuration and makes no connection; the
// first Snapshot connects; Close releases every connection.
package kafkaadmin
