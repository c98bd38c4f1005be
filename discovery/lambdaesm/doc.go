// Package lambdaesm discovers the AWS Lambda event source mappings (ESMs)
// that consume from the exporter's Kafka clusters, so that the group of a
// disabled function is watched before it loses its committed offsets.
//
// Discovery is optional (lambda-esm.enabled, off by default). Every refresh
// interval it calls ListEventSourceMappings (paginated, in every configured
// region; the only permission needed is lambda:ListEventSourceMappings) and
// keeps the Kafka mappings: those whose EventSourceArn is an Amazon MSK
// cluster (arn:aws:kafka:...) and those with a SelfManagedEventSource
// listing KAFKA_BOOTSTRAP_SERVERS. Each is matched to a configured cluster,
// by its MSK cluster ARN (clusters[].msk-cluster-arn) or by an overlap of
// its bootstrap servers with the cluster's brokers, and becomes an expected
// group of that cluster (expiry.Options.Expected): its consumer
// group id, topics and real StartingPosition (TRIM_HORIZON earliest, LATEST
// latest, AT_TIMESTAMP timestamp), with the function, UUID and state
// attached (exporter.LambdaESM).
//
// # The consumer group id
//
// The group id is AmazonManagedKafkaEventSourceConfig.ConsumerGroupId (MSK)
// or SelfManagedKafkaEventSourceConfig.ConsumerGroupId (self-managed) when
// set. When it is not set, Lambda uses the mapping's UUID: the AWS Lambda
// Developer Guide, "Using Lambda with Amazon MSK", section "Lambda consumer
// group" (awsdocs/aws-lambda-developer-guide, doc_source/with-msk.md):
// "To interact with Amazon MSK, Lambda creates a consumer group which can
// read from multiple Kafka topics. The consumer group is created with the
// same ID as an event source mapping UUID." The self-managed Kafka pages
// describe the same event source poller and document the customizable
// ConsumerGroupId for both kinds ("Customizable consumer group ID":
// "If you specify a consumer group ID, and Kafka cannot find an existing
// consumer group, then Lambda configures your event source with the
// specified StartingPosition"), so the same rule is applied to both.
//
// # The warning
//
// Offsets of a group without members expire after offsets.retention.minutes
// (7 days by default) and a mapping enabled afterwards starts from its
// StartingPosition: LATEST skips what was written meanwhile, TRIM_HORIZON
// processes the retained log again. A Disabled (or Disabling) mapping whose
// group's offsets are predicted to expire within the horizon (default 48h)
// is flagged (exporter.LambdaESM.ExpiresWithinHorizon, the metric
// offsetlag_lambda_esm_offsets_expire_within_horizon) and Warner logs one
// Warn line per mapping and episode.
package lambdaesm
