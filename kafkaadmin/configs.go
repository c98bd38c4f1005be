package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"
)

// Broker configuration read with DescribeConfigs.
const (
	// configOffsetsRetention is how long the broker keeps the committed
	// offsets of a group without members (KIP-211), in minutes.
	configOffsetsRetention = "offsets.retention.minutes"
	// DefaultConfigRefresh is how often broker configs are read again. They
	// are static broker settings, so there is no point reading them every
	// poll; a changed value (a rolling restart) is seen within this time.
	DefaultConfigRefresh = 5 * time.Minute
	// configRetryAfter is how soon a failed DescribeConfigs is tried again
	// (a broker that denies DESCRIBE_CONFIGS would otherwise get one
	// failing request per poll).
	configRetryAfter = time.Minute
)

// brokerConfigs is what the client remembers of the broker configs between
// rounds. Guarded by Client.mu.
type brokerConfigs struct {
	retention time.Duration // 0 until read
	err       error         // of the last attempt, nil when it succeeded
	next      time.Time     // when to read again
}

// describeConfigsDue reports whether this round should read the broker
// configs, and claims the attempt so that a concurrent round does not.
func (c *Client) describeConfigsDue(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.configs.next) {
		return false
	}
	c.configs.next = now.Add(configRetryAfter) // until the answer says otherwise
	return true
}

// describeConfigs reads offsets.retention.minutes from one broker (the
// first of brokerList: one that answered in the last round, with the
// lowest id; the setting is a static broker config, the same on every
// broker of a sanely run cluster) and remembers it. A failure is not
// a failed round: the snapshot keeps the last value read and carries the
// error in ConfigErr, so a principal without DESCRIBE_CONFIGS on the
// cluster still gets lag, and expiry falls back to the configured or the
// default retention.
func (r *round) describeConfigs(ctx context.Context) {
	now := time.Now()
	if r.c.describeConfigsDue(now) {
		ret, err := r.readRetention(ctx)
		r.c.mu.Lock()
		if err == nil {
			r.c.configs.retention, r.c.configs.err = ret, nil
			r.c.configs.next = now.Add(r.c.cfg.ConfigRefresh)
		} else {
			r.c.configs.err = err
		}
		r.c.mu.Unlock()
		if err != nil {
			r.c.logger.Debug("describe broker configs", "err", err)
		}
	}
	r.c.mu.Lock()
	r.snap.OffsetsRetention, r.snap.ConfigErr = r.c.configs.retention, r.c.configs.err
	r.c.mu.Unlock()
}

func (r *round) readRetention(ctx context.Context) (time.Duration, error) {
	bs := r.c.brokerList() // those that answered last first, then by id
	if len(bs) == 0 {
		return 0, errors.New("no broker known")
	}
	bc := bs[0]
	req := &sarama.DescribeConfigsRequest{Version: 1, Resources: []*sarama.ConfigResource{{
		Type: sarama.BrokerResource, Name: strconv.Itoa(int(bc.id)), ConfigNames: []string{configOffsetsRetention},
	}}}
	r.rc.add("DescribeConfigs")
	resp, err := onLane(ctx, r.c, bc, laneGroups, func(b *sarama.Broker) (*sarama.DescribeConfigsResponse, error) {
		return b.DescribeConfigs(req)
	})
	if err != nil {
		return 0, fmt.Errorf("describe configs of broker %d: %w", bc.id, err)
	}
	return retentionFrom(resp)
}

// retentionFrom finds offsets.retention.minutes in a DescribeConfigs answer.
func retentionFrom(resp *sarama.DescribeConfigsResponse) (time.Duration, error) {
	for _, res := range resp.Resources {
		if res.ErrorCode != 0 {
			return 0, fmt.Errorf("describe configs of broker %s: %w: %s", res.Name, sarama.KError(res.ErrorCode), res.ErrorMsg)
		}
		for _, e := range res.Configs {
			if e.Name != configOffsetsRetention {
				continue
			}
			m, err := strconv.ParseInt(e.Value, 10, 64)
			if err != nil || m <= 0 {
				return 0, fmt.Errorf("%s = %q: not a positive number of minutes", configOffsetsRetention, e.Value)
			}
			return time.Duration(m) * time.Minute, nil
		}
	}
	return 0, fmt.Errorf("%s missing from the DescribeConfigs answer", configOffsetsRetention)
}
