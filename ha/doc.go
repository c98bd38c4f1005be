// Package ha runs offsetlag-exporter replicas as one highly available
// service, with the user's Kafka cluster as the coordinator and the state
// store (issue #20).
//
// Membership: every replica joins one consumer group (--ha.group) that
// consumes a compacted coordination topic (--ha.topic) of P partitions.
// Partition p is virtual shard p. A consumer group g of cluster c belongs to
// shard ShardOf(c, g, P), the topic-level series of topic t to
// ShardOf(c, t, P); a replica exports the groups and topics of the shards
// it owns, and nothing else.
//
// Why franz-go (kgo) and not sarama for this one client: the shards must
// move as little as possible when a replica joins or leaves, and a shard
// must never be owned by two replicas at once. The incremental cooperative
// protocol (KIP-429) gives both: a rebalance first revokes only the
// partitions that move (their owner stops exporting them and flushes their
// state in OnPartitionsRevoked) and assigns them in a second rebalance; the
// other replicas keep exporting throughout. sarama implements only the
// eager protocol (every member drops every partition at every rebalance: a
// gap in every group's series at each scale event); kgo ships
// CooperativeStickyBalancer and is already a dependency (kfake, tests). The
// admin polling stays on sarama in kafkaadmin; this package never polls
// lag.
//
// State: after each poll the expiry tracker (exporter/expiry) hands its
// state to Member.ObserveExpiry (expiry.Options.Share), which writes the
// changed groups (key (cluster, group), value the group's state as the
// tracker encodes it, in JSON) to the group's shard partition:
// transitions (Empty, expired, gone) at once, routine changes (commits
// moving) at most every RoutineWriteEvery, at most MaxWritesPerPoll records
// per poll, a tombstone when the tracker forgets a group. A replica that
// gains a shard writes a barrier record into the partition and reads the
// partition from the start up to that barrier (so it has everything the
// previous owner flushed before it let go), hands the groups' state back
// to the tracker (expiry.Tracker.Restore), and only then owns the shard.
// A Member is the exporter's exporter.Owner: the exporter publishes only
// what it owns, and republishes without a shard as soon as the Member
// loses it (OnLoss).
//
// Lifecycle (the Burrow contract): New connects nowhere; Start creates the
// topic if needed and joins the group; Stop flushes the last writes and
// leaves the group, so a SIGTERM hands the shards over at once.
package ha
