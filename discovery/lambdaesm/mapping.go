package lambdaesm

import (
	"net"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
)

// Lambda's starting positions.
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
	AtTimestamp = "AT_TIMESTAMP"
)

// bootstrapServersKey is the SelfManagedEventSource endpoint of a Kafka
// cluster.
const bootstrapServersKey = "KAFKA_BOOTSTRAP_SERVERS"

// Mapping is one Kafka event source mapping.
type Mapping struct {
	// Region the mapping was listed in.
	Region string
	// UUID identifies the mapping; FunctionARN its function and
	// FunctionName the name in it.
	UUID, FunctionARN, FunctionName string
	// State: Creating, Enabling, Enabled, Disabling, Disabled, Updating,
	// Deleting.
	State                 string
	StateTransitionReason string
	LastModified          time.Time
	Topics                []string
	// StartingPosition as Lambda names it (TRIM_HORIZON, LATEST,
	// AT_TIMESTAMP; empty when not set) and its timestamp.
	StartingPosition          string
	StartingPositionTimestamp time.Time
	// GroupID is the consumer group id: the configured ConsumerGroupId,
	// else the UUID (GroupIDIsUUID); see the package documentation.
	GroupID       string
	GroupIDIsUUID bool
	// MSKClusterARN is the EventSourceArn of an Amazon MSK mapping;
	// BootstrapServers the KAFKA_BOOTSTRAP_SERVERS of a self-managed one.
	MSKClusterARN    string
	BootstrapServers []string
	// Cluster is the configured cluster the mapping was matched to, empty
	// when none.
	Cluster string
}

// FromConfiguration reads a listed mapping; ok is false when it is not a
// Kafka mapping (SQS, Kinesis, DynamoDB, MQ, DocumentDB).
func FromConfiguration(region string, c types.EventSourceMappingConfiguration) (m Mapping, ok bool) {
	m = Mapping{Region: region, UUID: aws.ToString(c.UUID), FunctionARN: aws.ToString(c.FunctionArn),
		State: aws.ToString(c.State), StateTransitionReason: aws.ToString(c.StateTransitionReason),
		Topics: slices.Clone(c.Topics), StartingPosition: string(c.StartingPosition)}
	m.FunctionName = FunctionName(m.FunctionARN)
	if c.LastModified != nil {
		m.LastModified = *c.LastModified
	}
	if c.StartingPositionTimestamp != nil {
		m.StartingPositionTimestamp = *c.StartingPositionTimestamp
	}
	arn := aws.ToString(c.EventSourceArn)
	switch {
	case IsMSKClusterARN(arn):
		m.MSKClusterARN = arn
		if c.AmazonManagedKafkaEventSourceConfig != nil {
			m.GroupID = aws.ToString(c.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId)
		}
	case c.SelfManagedEventSource != nil && len(c.SelfManagedEventSource.Endpoints[bootstrapServersKey]) > 0:
		m.BootstrapServers = slices.Clone(c.SelfManagedEventSource.Endpoints[bootstrapServersKey])
		if c.SelfManagedKafkaEventSourceConfig != nil {
			m.GroupID = aws.ToString(c.SelfManagedKafkaEventSourceConfig.ConsumerGroupId)
		}
	default:
		return Mapping{}, false
	}
	if m.UUID == "" {
		return Mapping{}, false
	}
	if m.GroupID == "" {
		// Lambda's consumer group is created with the mapping's UUID as its
		// id: AWS Lambda Developer Guide, "Using Lambda with Amazon MSK",
		// "Lambda consumer group" (doc_source/with-msk.md in
		// awsdocs/aws-lambda-developer-guide). See doc.go.
		m.GroupID, m.GroupIDIsUUID = m.UUID, true
	}
	return m, true
}

// IsMSKClusterARN reports whether arn names an Amazon MSK cluster
// (arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>).
func IsMSKClusterARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "kafka" && strings.HasPrefix(parts[5], "cluster/")
}

// FunctionName is the function name in a function ARN
// (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]); s
// itself when it is not one.
func FunctionName(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" {
		return parts[6]
	}
	return arn
}

// The exporter's starting positions (expiry.ExpectedGroup and
// result.LambdaESM StartingPosition, as in expiry.expected-groups) that
// Position maps Lambda's to.
const (
	posEarliest  = "earliest"
	posLatest    = "latest"
	posTimestamp = "timestamp"
)

// Position maps Lambda's StartingPosition to the exporter's: TRIM_HORIZON
// earliest, LATEST latest, AT_TIMESTAMP timestamp; empty when unknown.
func Position(sp string) string {
	switch sp {
	case TrimHorizon:
		return posEarliest
	case Latest:
		return posLatest
	case AtTimestamp:
		return posTimestamp
	}
	return ""
}

// Cluster is a configured Kafka cluster mappings are matched to.
type Cluster struct {
	Name string
	// MSKClusterARN matches Amazon MSK mappings (their EventSourceArn).
	MSKClusterARN string
	// Brokers are the configured bootstrap brokers; MetadataBrokers (set
	// with Discoverer.SetMetadataBrokers) every broker of the cluster as
	// its Metadata answer lists them.
	Brokers, MetadataBrokers []string
}

// Matches reports whether m consumes from c: an MSK mapping by its cluster
// ARN; a self-managed mapping when one of its bootstrap servers is one of
// the cluster's brokers, configured or from Metadata (host:port,
// case-insensitive), or, for Amazon MSK broker hosts, the same host on any
// port (MSK serves each authentication method on its own port: 9092,
// 9094, 9096, 9098).
func (c Cluster) Matches(m Mapping) bool {
	if m.MSKClusterARN != "" {
		return c.MSKClusterARN != "" && m.MSKClusterARN == c.MSKClusterARN
	}
	for _, b := range m.BootstrapServers {
		for _, list := range [][]string{c.Brokers, c.MetadataBrokers} {
			for _, cb := range list {
				if sameBroker(b, cb) {
					return true
				}
			}
		}
	}
	return false
}

// sameBroker reports whether two broker addresses name the same broker.
func sameBroker(a, b string) bool {
	a, b = normAddr(a), normAddr(b)
	if a == b {
		return true
	}
	ha, _, errA := net.SplitHostPort(a)
	hb, _, errB := net.SplitHostPort(b)
	return errA == nil && errB == nil && ha == hb && isMSKHost(ha)
}

// isMSKHost reports whether host is an Amazon MSK broker
// (b-1.name.xxxxxx.c2.kafka.us-east-1.amazonaws.com, also .amazonaws.com.cn
// and MSK Serverless).
func isMSKHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	return (strings.Contains(host, ".kafka.") || strings.Contains(host, ".kafka-serverless.")) &&
		(strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn"))
}

func normAddr(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Expected is the expected group m feeds to the exporter, with horizon as
// the warning horizon.
func (m Mapping) Expected(horizon time.Duration) expiry.ExpectedGroup {
	pos := Position(m.StartingPosition)
	return expiry.ExpectedGroup{Group: m.GroupID, StartingPosition: pos, Topics: slices.Clone(m.Topics),
		Lambda: []result.LambdaESM{{Region: m.Region, FunctionName: m.FunctionName, FunctionARN: m.FunctionARN,
			UUID: m.UUID, State: m.State, StartingPosition: pos, StartingPositionTimestamp: m.StartingPositionTimestamp,
			Horizon: horizon}}}
}
