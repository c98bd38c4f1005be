package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// Lanes are separate connections to one broker. sarama serialises the
// requests of one connection (it holds the connection while waiting for the
// answer), so requests that can run at the same time use different lanes:
// a round is then Metadata, then three steps, whatever the broker latency.
const (
	laneGroups   = iota // ListGroups, DescribeGroups, Metadata
	laneLatest          // ListOffsets latest, OffsetFetch
	laneEarliest        // ListOffsets earliest, ConsumerGroupDescribe
	numLanes
)

// API keys used here (Kafka protocol numbers).
const (
	apiOffsetFetch int16 = 9
)

// Client polls one cluster. It is safe for one Snapshot at a time; the
// exporter never runs two polls of a cluster at once.
type Client struct {
	cfg    Config
	sconf  *sarama.Config
	logger *slog.Logger

	mu      sync.Mutex
	brokers map[int32]*brokerConn // by id, from the last metadata
	closed  bool
	configs brokerConfigs // broker configs, refreshed every cfg.ConfigRefresh (configs.go)
	// bootstrapOK is the bootstrap address that last answered Metadata; it
	// is asked first the next time the bootstrap addresses are needed.
	bootstrapOK string
}

// brokerConn holds the lanes to one broker and what it supports.
type brokerConn struct {
	id    int32
	addr  string
	rack  string
	lanes [numLanes]*sarama.Broker
	// sem holds one token per lane while a request is in flight on it
	// (onLane). sarama holds a connection's lock for a whole request, so a
	// request abandoned at a poll's deadline would otherwise block the next
	// poll past its own deadline; waiting for the token respects the
	// context instead, and at most one request per lane is ever in flight.
	sem [numLanes]chan struct{}
	// dead is set once the connection is closed (guarded by Client.mu).
	dead bool
	// failed is set when a request to the broker failed in the last round,
	// or a Metadata attempt to it went unanswered until another broker
	// answered (guarded by Client.mu). Brokers that did not fail are asked
	// first (brokerList).
	failed bool
	// offsetFetchMax is the broker's highest OffsetFetch version, learned
	// once per connection with ApiVersions; -1 until known.
	offsetFetchMax int16
}

// New validates cfg and returns a client. It makes no connection.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sconf, err := cfg.sarama()
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", cfg.Name, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		cfg:     cfg,
		sconf:   sconf,
		logger:  logger.With("component", "kafkaadmin", "cluster_name", cfg.Name),
		brokers: map[int32]*brokerConn{},
	}, nil
}

// Name is the configured cluster name.
func (c *Client) Name() string { return c.cfg.Name }

// Close releases every connection. Snapshot after Close fails.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for id, bc := range c.brokers {
		bc.close()
		delete(c.brokers, id)
	}
	return nil
}

func newBrokerConn(id int32, addr, rack string) *brokerConn {
	bc := &brokerConn{id: id, addr: addr, rack: rack, offsetFetchMax: -1}
	for i := range bc.sem {
		bc.sem[i] = make(chan struct{}, 1)
	}
	return bc
}

// close closes every lane. Called with Client.mu held: sarama's Close waits
// for a request in flight, so it runs on its own goroutine.
func (bc *brokerConn) close() {
	bc.dead = true
	for i, b := range bc.lanes {
		if b != nil {
			go func() { _ = b.Close() }()
			bc.lanes[i] = nil
		}
	}
}

// onLane sends one request (fn) on bc's lane, with call's deadline
// semantics. It first waits, at most until ctx ends, for the lane's
// previous request to finish, including one abandoned by an earlier poll:
// a broker slower than the poll deadline then costs that poll its deadline
// and nothing more, and requests never pile up on a connection.
func onLane[T any](ctx context.Context, c *Client, bc *brokerConn, lane int, fn func(*sarama.Broker) (T, error)) (T, error) {
	var zero T
	select {
	case bc.sem[lane] <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	v, err := call(ctx, func() (T, error) {
		defer func() { <-bc.sem[lane] }()
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		return fn(c.lane(bc, lane))
	})
	return v, stableErr(err)
}

// lane returns a connected sarama.Broker for the lane, (re)opening it if
// needed. Open is asynchronous; the first request waits for the dial. Only
// the holder of the lane's token (onLane) calls it, so the lane is not in
// use: Connected and Close do not wait. They still run outside c.mu, which
// must never wait on a connection.
func (c *Client) lane(bc *brokerConn, lane int) *sarama.Broker {
	c.mu.Lock()
	b := bc.lanes[lane]
	c.mu.Unlock()
	if b != nil {
		if ok, _ := b.Connected(); ok {
			return b
		}
		_ = b.Close()
	}
	b = sarama.NewBroker(bc.addr)
	if err := b.Open(c.sconf); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
		c.logger.Debug("open broker connection", "broker", bc.id, "err", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if bc.dead {
		// Closed (client closed, broker gone) while we dialled: this
		// request fails, and the connection is not kept.
		go func() { _ = b.Close() }()
		return b
	}
	bc.lanes[lane] = b
	if lane == laneLatest {
		bc.offsetFetchMax = -1
	}
	return b
}

// updateBrokers replaces the broker set with the one from a Metadata
// answer, keeping connections whose address did not change.
func (c *Client) updateBrokers(bs []*sarama.Broker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := make(map[int32]bool, len(bs))
	for _, b := range bs {
		seen[b.ID()] = true
		bc := c.brokers[b.ID()]
		if bc != nil && bc.addr == b.Addr() {
			bc.rack = b.Rack()
			continue
		}
		if bc != nil {
			bc.close()
		}
		c.brokers[b.ID()] = newBrokerConn(b.ID(), b.Addr(), b.Rack())
	}
	for id, bc := range c.brokers {
		if !seen[id] {
			bc.close()
			delete(c.brokers, id)
		}
	}
}

func (c *Client) broker(id int32) *brokerConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.brokers[id]
}

// brokerList returns the known brokers in the order they are asked when
// any one of them will do (Metadata, DescribeConfigs): those that answered
// in the last round first, then the others, each by id. The order never
// depends on map iteration, so a poll's requests and its error texts are
// the same from poll to poll.
func (c *Client) brokerList() []*brokerConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*brokerConn, 0, len(c.brokers))
	for _, bc := range c.brokers {
		out = append(out, bc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].failed != out[j].failed {
			return !out[i].failed
		}
		return out[i].id < out[j].id
	})
	return out
}

// markHealth records which brokers failed in a round (brokerConn.failed):
// those with an id in failed or an address in failedAddrs.
func (c *Client) markHealth(failed map[int32]bool, failedAddrs map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, bc := range c.brokers {
		bc.failed = failed[id] || failedAddrs[bc.addr]
	}
}

// markFailedAddrs marks the brokers at these addresses failed, keeping the
// marks of the others.
func (c *Client) markFailedAddrs(addrs map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, bc := range c.brokers {
		bc.failed = bc.failed || addrs[bc.addr]
	}
}

// attemptTimeout is how long a Metadata attempt waits before the next
// broker is asked as well: Config.AttemptTimeout, at most a quarter of what
// remains of ctx's deadline (so attempts keep starting, ever closer
// together, until every broker has been asked).
func (c *Client) attemptTimeout(ctx context.Context) time.Duration {
	d := c.cfg.AttemptTimeout
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)/4)
	}
	return max(d, time.Millisecond)
}

// call runs fn, which sends one request, and returns when it finishes or
// ctx ends, whichever is first. sarama requests take no context; a request
// abandoned at the deadline finishes (or times out) on its own goroutine.
func call[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := fn()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// offsetFetchVersion returns the broker's highest OffsetFetch version,
// asking it once per connection.
func (c *Client) offsetFetchVersion(ctx context.Context, bc *brokerConn, rc *roundCounter) (int16, error) {
	c.mu.Lock()
	v := bc.offsetFetchMax
	c.mu.Unlock()
	if v >= 0 {
		return v, nil
	}
	rc.add("ApiVersions")
	resp, err := onLane(ctx, c, bc, laneLatest, func(b *sarama.Broker) (*sarama.ApiVersionsResponse, error) {
		return b.ApiVersions(&sarama.ApiVersionsRequest{Version: 0})
	})
	if err != nil {
		return 0, err
	}
	v = 0
	found := false
	for _, k := range resp.ApiKeys {
		if k.ApiKey == apiOffsetFetch {
			v, found = k.MaxVersion, true
		}
	}
	if !found {
		return 0, errors.New("broker does not support OffsetFetch")
	}
	c.mu.Lock()
	bc.offsetFetchMax = v
	c.mu.Unlock()
	return v, nil
}

// roundCounter counts the requests of one round by API.
type roundCounter struct {
	mu sync.Mutex
	m  map[string]int
}

func (rc *roundCounter) add(api string) {
	rc.mu.Lock()
	rc.m[api]++
	rc.mu.Unlock()
}

// Request versions are the highest the configured Kafka version allows;
// sarama lowers them further to what each broker advertises.

func (c *Client) listGroupsVersion() int16 {
	v := c.sconf.Version
	switch {
	case v.IsAtLeast(sarama.V3_8_0_0):
		return 5 // group types
	case v.IsAtLeast(sarama.V2_6_0_0):
		return 4 // group states
	case v.IsAtLeast(sarama.V2_4_0_0):
		return 3
	default:
		return 2
	}
}

func (c *Client) describeGroupsVersion() int16 {
	if c.sconf.Version.IsAtLeast(sarama.V2_4_0_0) {
		return 5
	}
	return 2
}
