package kafkatest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Main classes in the Kafka jars (kafka_2.13 and kafka-tools), valid for 3.9 and 4.1 unless noted.
const (
	MainBroker               = "kafka.Kafka"
	MainStorageTool          = "kafka.tools.StorageTool"
	MainConsumerGroupCommand = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
	MainConsoleConsumer      = "org.apache.kafka.tools.consumer.ConsoleConsumer"
	MainTopicCommand         = "org.apache.kafka.tools.TopicCommand"
)

// ConsoleProducerClass is the console producer's main class: kafka.tools.ConsoleProducer in 3.x
// (kafka_2.13), org.apache.kafka.tools.ConsoleProducer in 4.x (kafka-tools).
func (b *Broker) ConsoleProducerClass() string {
	if strings.HasPrefix(b.Version, "3.") {
		return "kafka.tools.ConsoleProducer"
	}
	return "org.apache.kafka.tools.ConsoleProducer"
}

// GroupListing is one row of `kafka-consumer-groups --list --state` (plus --type on 4.x).
type GroupListing struct {
	Group string
	State string // Stable, Empty, ... ("" if not printed)
	Type  string // "Classic" or "Consumer" (4.x only; "" on 3.9)
}

// ListGroups runs ConsumerGroupCommand --list --state (and --type on 4.x) and parses the table.
func (b *Broker) ListGroups(ctx context.Context) ([]GroupListing, error) {
	args := []string{"--list", "--state"}
	if !strings.HasPrefix(b.Version, "3.") {
		args = append(args, "--type")
	}
	out, err := b.groupCommand(ctx, args...)
	if err != nil {
		return nil, err
	}
	return ParseGroupListing(out)
}

// Groups is ListGroups that fails the test on error.
func (b *Broker) Groups(t testing.TB) []GroupListing {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gs, err := b.ListGroups(ctx)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return gs
}

// ParseGroupListing parses `--list --state [--type]` output (columns found by header name).
func ParseGroupListing(out string) ([]GroupListing, error) {
	var gs []GroupListing
	err := eachLine(out, func(f []string, cols map[string]int, header bool, line string) error {
		switch {
		case header:
		case cols == nil:
			// plain --list: one group per line
			gs = append(gs, GroupListing{Group: f[0]})
		case len(f) != len(cols):
			return fmt.Errorf("line %q does not match the header", line)
		default:
			g := GroupListing{Group: f[cols["GROUP"]]}
			if i, ok := cols["STATE"]; ok {
				g.State = f[i]
			}
			if i, ok := cols["TYPE"]; ok {
				g.Type = f[i]
			}
			gs = append(gs, g)
		}
		return nil
	})
	return gs, err
}

// eachLine calls fn with the fields of every non-empty line of the
// consumer-groups tool's output out, and the columns (by header name) of the
// last header line ("GROUP ...") seen, nil before any; header is true on
// the header lines themselves.
func eachLine(out string, fn func(f []string, cols map[string]int, header bool, line string) error) error {
	var cols map[string]int
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		header := f[0] == "GROUP"
		if header {
			cols = map[string]int{}
			for i, c := range f {
				cols[c] = i
			}
		}
		if err := fn(f, cols, header, line); err != nil {
			return err
		}
	}
	return nil
}
