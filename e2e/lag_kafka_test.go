package e2e

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
)

// TestLagMatchesKafkaCLI fills two topics, runs classic consumer groups to
// fixed commits (some members still running: Stable; some stopped: Empty;
// one group that never commits), then compares the exporter's /metrics with
// Kafka's own kafka-consumer-groups, partition by partition.
func TestLagMatchesKafkaCLI(t *testing.T) {
	forEachVersion(t, func(t *testing.T, b *kafkatest.Broker) {
		start := time.Now()
		adm := newAdmin(t, b)
		pre := uniq("lag")
		orders, payments := pre+"orders", pre+"payments"
		createTopic(t, b, adm, orders, 40, 55, 70)
		createTopic(t, b, adm, payments, 25, 90)
		parts := map[string][]int32{orders: {0, 1, 2}, payments: {0, 1}}
		// Producers are done: from here on only commits change.

		exp := startExporter(t, b, "--groups.allow", pre+".*")

		type spec struct {
			group   string
			members int
			topics  []string
			targets map[tp]int64 // committed offset per partition; 0: no commit
			stop    bool         // members leave after committing: Empty
		}
		specs := []spec{
			{group: pre + "stable-partial", members: 1, topics: []string{orders, payments},
				// orders/1 is assigned but never committed: Kafka shows "-".
				targets: map[tp]int64{{orders, 0}: 10, {orders, 1}: 0, {orders, 2}: 70, {payments, 0}: 25, {payments, 1}: 33}},
			{group: pre + "stable-two-members", members: 2, topics: []string{orders},
				targets: map[tp]int64{{orders, 0}: 38, {orders, 1}: 1, {orders, 2}: 69}},
			{group: pre + "empty-partial", members: 1, topics: []string{payments}, stop: true,
				targets: map[tp]int64{{payments, 0}: 5, {payments, 1}: 89}},
			{group: pre + "empty-caught-up", members: 1, topics: []string{orders, payments}, stop: true,
				targets: map[tp]int64{{orders, 0}: 40, {orders, 1}: 55, {orders, 2}: 70, {payments, 0}: 25, {payments, 1}: 90}},
			{group: pre + "no-commit", members: 1, topics: []string{orders},
				targets: map[tp]int64{}},
		}
		wantState := map[string]string{}
		wantMembers := map[string]int{}
		groups := make([]*classicGroup, len(specs))
		for i, s := range specs {
			groups[i] = startClassicGroup(t, b, s.group, s.members, s.topics, s.targets, sarama.ReadUncommitted)
		}
		var stops sync.WaitGroup
		for i, s := range specs {
			waitCommitted(t, adm, s.group, parts, nonZero(s.targets))
			if s.stop {
				stops.Add(1)
				go func() { defer stops.Done(); groups[i].stop() }()
				wantState[s.group], wantMembers[s.group] = "Empty", 0
			} else {
				wantState[s.group], wantMembers[s.group] = "Stable", s.members
			}
		}
		stops.Wait()
		// Stable groups: every member has its assignment (no rebalance in flight).
		waitGroupStates(t, adm, wantState, wantMembers)
		ready := time.Since(start)

		ms := exp.settled(t)
		rows := b.ConsumerGroups(t)
		listed := b.Groups(t)

		keep := func(g string) bool { return strings.HasPrefix(g, pre) }
		lag := ms.partitionValues(t, "offsetlag_consumergroup_lag", keep)
		commit := ms.partitionValues(t, "offsetlag_consumergroup_committed_offset", keep)
		ends := map[tp]float64{}
		for _, m := range ms.series("offsetlag_partition_end_offset", nil) {
			ends[tp{labelOf(m, "topic"), int32(parseInt(t, labelOf(m, "partition")))}] = sampleValue(m)
		}
		expected := map[partitionKey]int64{} // committed offset per group-partition, from the specs
		for _, s := range specs {
			for k, v := range s.targets {
				if v > 0 {
					expected[partitionKey{s.group, k.topic, k.partition}] = v
				}
			}
		}

		var (
			compared, dashes, mismatches int
			seen                         = map[partitionKey]bool{}
			cmpGroups                    = map[string]bool{}
			cmpTopics                    = map[string]bool{}
			consumers                    = map[string]map[string]bool{}
		)
		mismatch := func(format string, args ...any) {
			t.Helper()
			mismatches++
			t.Errorf(format, args...)
		}
		for _, r := range rows {
			if !keep(r.Group) {
				continue
			}
			k := partitionKey{r.Group, r.Topic, r.Partition}
			seen[k] = true
			if r.ConsumerID != "" && r.ConsumerID != "-" {
				if consumers[r.Group] == nil {
					consumers[r.Group] = map[string]bool{}
				}
				consumers[r.Group][r.ConsumerID] = true
			}
			if r.CurrentOffset < 0 || r.Lag < 0 {
				// Kafka prints "-": no commit. We must have no lag series.
				dashes++
				if v, ok := lag[k]; ok {
					mismatch("%s: Kafka shows no commit (-), exporter has lag %v", k, v)
				}
				if _, ok := expected[k]; ok {
					mismatch("%s: Kafka shows no commit, but the test committed %d", k, expected[k])
				}
				continue
			}
			compared++
			cmpGroups[r.Group], cmpTopics[r.Topic] = true, true
			if want, ok := expected[k]; !ok || want != r.CurrentOffset {
				mismatch("%s: oracle says committed %d, test committed %d", k, r.CurrentOffset, want)
			}
			if got, ok := lag[k]; !ok {
				mismatch("%s: exporter has no lag series, Kafka shows lag %d", k, r.Lag)
			} else if int64(got) != r.Lag {
				mismatch("%s: exporter lag %v, Kafka lag %d", k, got, r.Lag)
			}
			if got, ok := commit[k]; !ok || int64(got) != r.CurrentOffset {
				mismatch("%s: exporter committed offset %v (present %v), Kafka %d", k, got, ok, r.CurrentOffset)
			}
			if got, ok := ends[tp{r.Topic, r.Partition}]; !ok || int64(got) != r.LogEndOffset {
				mismatch("%s: exporter end offset %v (present %v), Kafka log end offset %d", k, got, ok, r.LogEndOffset)
			}
			delete(lag, k)
		}
		for k, v := range lag {
			mismatch("%s: exporter has lag %v, Kafka has no row with a commit", k, v)
		}
		// Every partition of every topic a group consumes has a row (the
		// Empty groups only show their committed partitions, all of them here).
		for _, s := range specs {
			for _, topic := range s.topics {
				for _, p := range parts[topic] {
					k := partitionKey{s.group, topic, p}
					if !seen[k] {
						mismatch("%s: no row in Kafka's describe output", k)
					}
				}
			}
		}

		// Group state, members and type: the exporter, the CLI's --list and
		// the members the CLI's describe shows agree with what the test did.
		cliState := map[string]string{}
		for _, l := range listed {
			cliState[l.Group] = l.State
			if keep(l.Group) && l.Type != "" && !strings.EqualFold(l.Type, "classic") {
				mismatch("group %s: CLI type %s, want Classic", l.Group, l.Type)
			}
		}
		for _, s := range specs {
			g := s.group
			if cliState[g] != wantState[g] {
				mismatch("group %s: CLI state %q, want %q", g, cliState[g], wantState[g])
			}
			if got := ms.value("offsetlag_consumergroup_state", map[string]string{"group": g, "state": wantState[g]}); got != 1 {
				mismatch("group %s: offsetlag_consumergroup_state{state=%q} = %v, want 1", g, wantState[g], got)
			}
			if got := ms.value("offsetlag_consumergroup_members", map[string]string{"group": g}); got != float64(wantMembers[g]) {
				mismatch("group %s: exporter members %v, want %d", g, got, wantMembers[g])
			}
			if got := len(consumers[g]); got != wantMembers[g] {
				mismatch("group %s: CLI shows %d consumers, want %d", g, got, wantMembers[g])
			}
			if got := ms.value("offsetlag_consumergroup_info", map[string]string{"group": g, "group_type": "classic"}); got != 1 {
				mismatch("group %s: offsetlag_consumergroup_info{group_type=\"classic\"} = %v, want 1", g, got)
			}
		}
		// The group without any commit: every partition is counted as
		// without commit, and no lag, sum or max is made up for it.
		nc := pre + "no-commit"
		if got := ms.value("offsetlag_consumergroup_partitions_without_commit", map[string]string{"group": nc, "topic": orders}); got != 3 {
			mismatch("group %s: partitions_without_commit %v, want 3", nc, got)
		}
		if got := ms.value("offsetlag_consumergroup_sum_lag", map[string]string{"group": nc}); got > 0 {
			mismatch("group %s: sum_lag %v, want 0 or absent", nc, got)
		}
		sp := pre + "stable-partial"
		if got := ms.value("offsetlag_consumergroup_partitions_without_commit", map[string]string{"group": sp, "topic": orders}); got != 1 {
			mismatch("group %s: partitions_without_commit on %s %v, want 1", sp, orders, got)
		}

		if len(cmpGroups) < 3 || len(cmpTopics) < 2 {
			t.Errorf("compared %d groups on %d topics; want at least 3 groups and 2 topics", len(cmpGroups), len(cmpTopics))
		}
		gs, ts := slices.Sorted(maps.Keys(cmpGroups)), slices.Sorted(maps.Keys(cmpTopics))
		t.Logf("groups %v, topics %v; %d rows without commit (\"-\") checked absent", gs, ts, dashes)
		t.Logf("Kafka %s: compared %d partitions in %d groups on %d topics: %d mismatches (setup %s, total %s)",
			b.Version, compared, len(cmpGroups), len(cmpTopics), mismatches, ready.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	})
}

// waitGroupStates waits until each group is in its state with that many
// members, each with an assignment (per the broker's DescribeGroups).
func waitGroupStates(t *testing.T, adm sarama.ClusterAdmin, states map[string]string, members map[string]int) {
	t.Helper()
	names := slices.Sorted(maps.Keys(states))
	deadline := time.Now().Add(60 * time.Second)
	for {
		descs, err := adm.DescribeConsumerGroups(names)
		if err != nil {
			t.Fatal(err)
		}
		var bad []string
		for _, d := range descs {
			ok := d.State == states[d.GroupId] && len(d.Members) == members[d.GroupId]
			for _, m := range d.Members {
				ok = ok && len(m.MemberAssignment) > 0
			}
			if !ok {
				bad = append(bad, d.GroupId+"="+d.State)
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("groups not settled: %v", bad)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
