package worker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/worker/message"
)

// StartingPosition is where a partition without a valid committed offset
// starts, as in a Lambda event source mapping.
type StartingPosition string

// Starting positions.
const (
	TrimHorizon StartingPosition = "TRIM_HORIZON" // the oldest record still in the log
	Latest      StartingPosition = "LATEST"       // the end of the log: only new records
	AtTimestamp StartingPosition = "AT_TIMESTAMP" // the first record with timestamp >= StartingTimestamp
)

// ParseStartingPosition parses a case-insensitive StartingPosition.
func ParseStartingPosition(s string) (StartingPosition, error) {
	switch p := StartingPosition(strings.ToUpper(strings.TrimSpace(s))); p {
	case TrimHorizon, Latest, AtTimestamp:
		return p, nil
	}
	return "", fmt.Errorf("starting position %q: want TRIM_HORIZON, LATEST or AT_TIMESTAMP", s)
}

// Config configures a Worker. Call SetDefaults, then Validate.
type Config struct {
	Brokers      []string // bootstrap brokers host:port
	Topics       []string // source topics
	Group        string   // consumer group id
	ClientID     string   // Kafka client id
	FailureTopic string   // on-failure (dead-letter) topic, required

	BatchSize   int           // records per batch, per partition (1..10000)
	BatchWindow time.Duration // max wait after a batch's first record before it is processed

	MaxRetries      int           // store retries of a failed batch before dead-lettering it; -1 = until MaxRecordAge
	MaxRecordAge    time.Duration // dead-letter a failing batch once its oldest record is older; 0 = no limit
	RetryBackoff    time.Duration // first retry wait, doubled per retry
	MaxRetryBackoff time.Duration // cap of the retry wait
	StoreTimeout    time.Duration // timeout of one Store.Put call

	// BisectOnError splits a batch whose store write failed (with an error
	// that names no result) in two halves written separately, recursively
	// down to single records, so that only the records that really fail
	// are dead-lettered (Lambda's BisectBatchOnFunctionError). Splits do
	// not count against MaxRetries.
	BisectOnError bool

	ConnectBackoff    time.Duration // first wait before retrying to connect or join; doubled per failure
	MaxConnectBackoff time.Duration // cap of the connect/join retry wait

	StartingPosition  StartingPosition
	StartingTimestamp time.Time // for AT_TIMESTAMP

	Limits message.Limits // MaxNumber, MaxBytes of a record value

	// MaxDeadLetterValueBytes caps the value copied to the failure topic;
	// longer values are truncated and flagged with header truncated=true.
	MaxDeadLetterValueBytes int

	KafkaVersion sarama.KafkaVersion // protocol version; at least V2_1_0_0

	// TransactionalID, when set, writes a batch's dead letters and its
	// offset commit in one Kafka transaction, so read_committed readers of
	// the failure topic see each dead letter exactly once even across a
	// crash. It must be stable across restarts of one worker instance and
	// unique among concurrently running instances. Empty: the failure topic
	// is at-least-once (a crash between the dead-letter write and the commit
	// writes that batch's dead letters again).
	TransactionalID string

	// Customize, when set, is applied last to the sarama configuration:
	// TLS and SASL (internal/kafkasec Config.Apply).
	Customize func(*sarama.Config) error
}

// SetDefaults fills zero fields with defaults.
func (c *Config) SetDefaults() {
	if c.ClientID == "" {
		c.ClientID = "factor-worker"
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.BatchWindow == 0 {
		c.BatchWindow = 500 * time.Millisecond
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = 200 * time.Millisecond
	}
	if c.MaxRetryBackoff == 0 {
		c.MaxRetryBackoff = 10 * time.Second
	}
	if c.ConnectBackoff == 0 {
		c.ConnectBackoff = 500 * time.Millisecond
	}
	if c.MaxConnectBackoff == 0 {
		c.MaxConnectBackoff = 5 * time.Second
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = 30 * time.Second
	}
	if c.StartingPosition == "" {
		c.StartingPosition = TrimHorizon
	}
	if c.Limits.MaxNumber == 0 {
		c.Limits.MaxNumber = message.DefaultMaxNumber
	}
	if c.Limits.MaxBytes == 0 {
		c.Limits.MaxBytes = message.DefaultMaxBytes
	}
	if c.MaxDeadLetterValueBytes == 0 {
		c.MaxDeadLetterValueBytes = 64 << 10
	}
	if c.KafkaVersion == (sarama.KafkaVersion{}) {
		c.KafkaVersion = sarama.V3_7_0_0
	}
}

// Validate reports every invalid field.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New("no topics"))
	}
	if c.Group == "" {
		errs = append(errs, errors.New("no consumer group"))
	}
	if c.FailureTopic == "" {
		errs = append(errs, errors.New("no failure topic"))
	}
	for _, t := range c.Topics {
		if t == c.FailureTopic && t != "" {
			errs = append(errs, fmt.Errorf("failure topic %q is also a source topic", t))
		}
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("batch size %d: want 1..10000", c.BatchSize))
	}
	if c.BatchWindow < 0 || c.BatchWindow > 5*time.Minute {
		errs = append(errs, fmt.Errorf("batch window %s: want 0..5m", c.BatchWindow))
	}
	if c.MaxRetries < -1 {
		errs = append(errs, fmt.Errorf("max retries %d: want -1 (unlimited) or >= 0", c.MaxRetries))
	}
	if c.MaxRetries == -1 && c.MaxRecordAge <= 0 {
		errs = append(errs, errors.New("max retries -1 needs a max record age, or a failing store blocks the partition forever"))
	}
	if c.MaxRecordAge < 0 || c.RetryBackoff < 0 || c.MaxRetryBackoff < c.RetryBackoff || c.StoreTimeout <= 0 {
		errs = append(errs, errors.New("durations must be positive and max retry backoff >= retry backoff"))
	}
	if c.ConnectBackoff <= 0 || c.MaxConnectBackoff < c.ConnectBackoff {
		errs = append(errs, errors.New("connect backoff must be positive and max connect backoff >= connect backoff"))
	}
	if _, err := ParseStartingPosition(string(c.StartingPosition)); err != nil {
		errs = append(errs, err)
	}
	if c.StartingPosition == AtTimestamp && c.StartingTimestamp.IsZero() {
		errs = append(errs, errors.New("AT_TIMESTAMP needs a starting timestamp"))
	}
	if c.StartingPosition != AtTimestamp && !c.StartingTimestamp.IsZero() {
		errs = append(errs, fmt.Errorf("starting timestamp given but starting position is %s", c.StartingPosition))
	}
	if c.Limits.MaxBytes < 16 {
		errs = append(errs, fmt.Errorf("max record bytes %d: want >= 16", c.Limits.MaxBytes))
	}
	if !c.KafkaVersion.IsAtLeast(sarama.V2_1_0_0) {
		errs = append(errs, fmt.Errorf("kafka version %s: want >= 2.1.0", c.KafkaVersion))
	}
	return errors.Join(errs...)
}
