package kafkaadmin

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/IBM/sarama"
)

// Isolation selects which end offset lag is measured against.
type Isolation string

const (
	// ReadUncommitted measures against the high watermark: every appended
	// record, including open and aborted transactions and control records.
	ReadUncommitted Isolation = "read_uncommitted"
	// ReadCommitted measures against the last stable offset (LSO), which
	// is what a read_committed consumer can reach.
	ReadCommitted Isolation = "read_committed"
)

// Config configures one cluster's admin client.
type Config struct {
	// Name labels every series of this cluster (cluster_name).
	Name string
	// Brokers are bootstrap addresses, host:port.
	Brokers []string
	// ClientID is sent with every request.
	ClientID string
	// Version is the Kafka version requests are built for (the broker's
	// advertised versions still cap each request). Never below 2.1.0.
	Version string
	// Isolation chooses the end offset: high watermark or LSO.
	Isolation Isolation
	// DialTimeout bounds connecting; request deadlines come from the
	// poll's context.
	DialTimeout time.Duration
	// AttemptTimeout is how long a Metadata attempt (to a known broker or
	// a bootstrap address) may stay unanswered before the next broker is
	// asked as well (hedging: the first answer wins, the slow attempt is
	// not cancelled). It is capped at a quarter of what remains of the
	// poll's deadline, so every broker is tried before the deadline.
	// DefaultAttemptTimeout when 0. A healthy broker answers well within
	// it, so hedging adds no request to a healthy poll.
	AttemptTimeout time.Duration
	// IncludeGroup, when set, decides which groups are described and
	// fetched; others are ignored entirely (no requests for them).
	IncludeGroup func(group string) bool
	// IncludeTopic, when set, decides which topics are listed.
	IncludeTopic func(topic string) bool
	// TLS, when set, enables TLS to the brokers.
	TLS *tls.Config
	// ConfigRefresh is how often broker configs (offsets.retention.minutes)
	// are read again with DescribeConfigs; DefaultConfigRefresh when 0.
	ConfigRefresh time.Duration
	// Customize, when set, is applied last to the sarama configuration
	// (SASL and other security settings).
	Customize func(*sarama.Config) error
}

// Defaults.
const (
	DefaultVersion     = "4.1.0"
	DefaultClientID    = "offsetlag"
	DefaultDialTimeout = 10 * time.Second
	// DefaultAttemptTimeout is the default Config.AttemptTimeout.
	DefaultAttemptTimeout = 2 * time.Second
)

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.Isolation == "" {
		c.Isolation = ReadUncommitted
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.ConfigRefresh <= 0 {
		c.ConfigRefresh = DefaultConfigRefresh
	}
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	if c.Name == "" {
		return errors.New("cluster name is empty")
	}
	if len(c.Brokers) == 0 {
		return fmt.Errorf("cluster %q: no brokers", c.Name)
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("cluster %q: broker %q: want host:port: %w", c.Name, b, err)
		}
	}
	v, err := sarama.ParseKafkaVersion(c.Version)
	if err != nil {
		return fmt.Errorf("cluster %q: kafka version %q: %w", c.Name, c.Version, err)
	}
	if !v.IsAtLeast(sarama.V2_1_0_0) {
		return fmt.Errorf("cluster %q: kafka version %q: must be at least 2.1.0", c.Name, c.Version)
	}
	switch c.Isolation {
	case ReadUncommitted, ReadCommitted:
	default:
		return fmt.Errorf("cluster %q: isolation %q: want %s or %s", c.Name, c.Isolation, ReadUncommitted, ReadCommitted)
	}
	if c.DialTimeout < 0 {
		return fmt.Errorf("cluster %q: dial timeout must not be negative", c.Name)
	}
	if c.AttemptTimeout < 0 {
		return fmt.Errorf("cluster %q: attempt timeout must not be negative", c.Name)
	}
	return nil
}

func (c *Config) sarama() (*sarama.Config, error) {
	sc := sarama.NewConfig()
	v, err := sarama.ParseKafkaVersion(c.Version)
	if err != nil {
		return nil, err
	}
	sc.Version = v
	sc.ClientID = c.ClientID
	sc.Net.DialTimeout = c.DialTimeout
	// Requests are bounded by the poll's deadline; the read timeout only
	// reclaims a connection whose answer never comes.
	sc.Net.ReadTimeout = 2 * time.Minute
	sc.Net.WriteTimeout = 30 * time.Second
	sc.Metadata.RefreshFrequency = 0
	sc.Metadata.Full = false
	if c.TLS != nil {
		sc.Net.TLS.Enable = true
		sc.Net.TLS.Config = c.TLS
	}
	if c.Customize != nil {
		if err := c.Customize(sc); err != nil {
			return nil, err
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("sarama config: %w", err)
	}
	return sc, nil
}
