package kafkaadmin_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
)

// TestOffsetsRetention reads offsets.retention.minutes with one
// DescribeConfigs, and not again on the next round (it is refreshed every
// ConfigRefresh, not every poll).
func TestOffsetsRetention(t *testing.T) {
	c := kfaketest.New(t, kfake.NumBrokers(2), kfake.SeedTopics(1, "t"),
		kfake.BrokerConfigs(map[string]string{"offsets.retention.minutes": "3"}))
	cl := c.Source(t, "c")

	s := snapshot(t, cl)
	if s.OffsetsRetention != 3*time.Minute || s.ConfigErr != nil {
		t.Fatalf("retention = %s, err %v", s.OffsetsRetention, s.ConfigErr)
	}
	if n := s.Requests["DescribeConfigs"]; n != 1 {
		t.Errorf("DescribeConfigs requests = %d, want 1", n)
	}
	if !s.Complete() {
		t.Errorf("errors: %v", s.Errors)
	}
	s = snapshot(t, cl)
	if s.OffsetsRetention != 3*time.Minute {
		t.Errorf("second round: retention = %s", s.OffsetsRetention)
	}
	if n := s.Requests["DescribeConfigs"]; n != 0 {
		t.Errorf("second round sent %d DescribeConfigs, want 0", n)
	}
}
