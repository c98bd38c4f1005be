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
//     MaxRecordAge; then its records are sent to the on-failure topic with
//     headers reason, source_topic, source_partition, source_offset. Only the
//     records that were not stored are retried and dead-lettered: a store
//     names them in a *store.PartialError (partial batch response; SQLite and
//     DynamoDB do), and with BisectOnError a failure that names no record
//     splits the records in halves, down to single records (Lambda's
//     BisectBatchOnFunctionError). A record is stored or dead-lettered, not
//     both.
//   - Offsets are marked only after a batch was stored or dead-lettered
//     (auto-commit is off) and committed by a per-partition committer
//     goroutine (synchronously before the next batch with a TransactionalID),
//     so a crash redelivers at most the batches not yet committed;
//     stores are idempotent on msg_id, so redelivery never creates a second
//     row.
//   - Each partition's batches are stored by a processor goroutine while the
//     claim loop keeps fetching the next batch, so a slow store does not stall
//     fetching.
//   - Kafka unreachable (at start or later) is waited for: connection and
//     group join are retried with backoff until Run's context ends; Status
//     and the factor_worker_kafka_connected / factor_worker_consuming gauges
//     say where the worker is.
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
