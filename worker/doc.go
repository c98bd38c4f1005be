// Package worker is the bundled factor-worker pipeline: a Kafka consumer with
// AWS Lambda event-source-mapping (ESM) semantics.
//
// It reads records whose value is {"number": N}, computes all divisors of N
// (package worker/factor), and writes one result row per record to a Store
// (package worker/store: SQLite or DynamoDB).
//
// Semantics, mirroring a Lambda Kafka ESM:
//
//   - Records are processed in batches per partition: a batch closes when it
//     holds BatchSize records or when BatchWindow has passed since its first
//     record. Order is kept within a partition.
//   - Malformed records (see Parse) never reach the store and never fail a
//     batch: they are dead-lettered at once with their reason.
//   - A batch whose store write fails is retried with exponential backoff up
//     to MaxRetries times or until its oldest record is older than
//     MaxRecordAge; then every record of the batch is sent to the on-failure
//     topic with headers reason, source_topic, source_partition,
//     source_offset.
//   - Offsets are marked and committed synchronously only after a batch was
//     stored or dead-lettered (auto-commit is off), so a crash redelivers at
//     most the in-flight batch; stores are idempotent on msg_id, so
//     redelivery never creates a second row.
//   - StartingPosition (TRIM_HORIZON, LATEST, AT_TIMESTAMP) is used only when
//     the group has no valid committed offset for a partition (new group,
//     expired offsets, or a commit out of range).
//   - Cancelling the Run context finishes the in-flight batch, commits and
//     returns nil.
//
// msg_id is "<topic>-<partition>-<offset>": unique per record, so two records
// carrying the same number produce two rows (the seed keyed by the number and
// silently overwrote duplicates) and a redelivered record produces none.
package worker
