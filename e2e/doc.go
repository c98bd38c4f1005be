// Package e2e holds the end-to-end suite: the built offsetlag-exporter binary,
// run as a separate process against a real Apache Kafka broker
// (internal/testing/kafkatest), is compared partition by partition with Kafka's own
// kafka-consumer-groups tool.
//
// The suite runs against Kafka 4.1 and 3.9 in one `go test ./e2e/...` (one
// shared broker per version); OFFSETLAG_TEST_KAFKA_VERSION=4.1 or =3.9 restricts it
// to that version. KIP-848 tests run on 4.x only. With -short (and CI unset)
// the suite is skipped; with CI=true a broker that cannot start fails it.
//
// What is covered:
//   - lag, committed offset and end offset of classic consumer groups (Stable
//     with running members, Empty after the members left, one group without
//     any commit) equal the CLI's, row by row;
//   - transactions: committed, aborted and open transactions, with
//     --kafka.isolation read_uncommitted (high watermark) and read_committed
//     (last stable offset), for a sarama consumer and Kafka's console consumer;
//   - a KIP-848 group (group.protocol=consumer) is listed, described and its
//     lag reported (4.x);
//   - reliability (TestReliability*, each logging a `RELIABILITY |` row for
//     README only when its assertions held): the single broker stopped and
//     restarted; on a 3-node cluster (kafkatest.StartCluster) a rolling
//     restart and one node frozen with SIGSTOP for 20 s, every scrape checked
//     (cluster_kafka_test.go describes the checks). These run on the default
//     Kafka version only (their own brokers, not the shared ones).
//
// The package has no non-test code besides this comment.
package e2e
