package kafkaadmin

import "sort"

// BrokerAddrs returns the host:port of every broker of the cluster as of
// the last Metadata answer (empty before the first poll), sorted. Safe
// for concurrent use; no I/O.
func (c *Client) BrokerAddrs() []string {
	bs := c.brokerList()
	out := make([]string, 0, len(bs))
	for _, bc := range bs {
		out = append(out, bc.addr)
	}
	sort.Strings(out)
	return out
}
