package appconfig

import (
	"fmt"
	"net"
	"strconv"

	"github.com/offsetlag/offsetlag/internal/settings"
)

// Every int and duration option has a range tag (its valid values,
// TestEveryNumericOptionBounded), printed in --help and in README's
// configuration reference. Why these:
//   - poll.interval: a poll is a handful of round trips to every broker;
//     below 100 ms the exporter only loads the brokers (a YAML "30" once
//     meant 30 ns: 18,000 polls in 5 s). poll.timeout is at most the
//     interval, shard.index below shard.count (checked by
//     exporter.Config.Validate).
//   - kafka.dial-timeout: a TCP and TLS handshake needs more than 100 ms
//     on a real network.
//   - status.window: every partition keeps a window of samples; 1,000 polls
//     of 10,000 partitions is already ~160 MB.
//   - web timeouts: at least a second (a scrape must be able to finish),
//     at most an hour.

// validateBounds checks every numeric option against its range (the
// clusters list's after inheritance, named clusters[i].key), then the
// ranges that depend on another option.
func (c *Config) validateBounds() error {
	if err := settings.Check(c, ""); err != nil {
		return err
	}
	for i, cl := range c.Clusters {
		settings.Inherit(&cl.ClusterSettings, c.Kafka.ClusterSettings)
		if err := settings.Check(&cl.ClusterSettings, fmt.Sprintf("clusters[%d].", i)); err != nil {
			return err
		}
	}
	for _, a := range c.Web.ListenAddress {
		if err := checkPort("web.listen-address", a, 0); err != nil {
			return err
		}
	}
	for _, cl := range c.ClusterList() {
		for _, b := range cl.Brokers {
			if err := checkPort(fmt.Sprintf("cluster %q: broker", cl.Name), b, 1); err != nil {
				return err
			}
		}
	}
	return c.Exporter.Validate()
}

// checkPort reports an address whose port is not a number from minPort
// to 65535 (0 for a listen address: any free port). Addresses that are not
// host:port at all are left to the caller's own check, which says so.
func checkPort(what, addr string, minPort int) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < minPort || n > 65535 {
		return fmt.Errorf("%s %q: port %q out of range, want %d to 65535", what, addr, port, minPort)
	}
	return nil
}
