package expiry

import "github.com/offsetlag/offsetlag/kafkaadmin"

// GroupAnswerTrusted reports whether a group's answer in a snapshot can be
// taken to say that commits missing from it are gone: the snapshot is
// complete, the group was described and fetched without error, its
// coordinator is the one of the previous poll (coordinatorKnown and
// prevCoordinator), and the answer holds at least one commit (a
// coordinator that is loading or unloading the group, as a broker shutting
// down does, answers without any).
func GroupAnswerTrusted(snap *kafkaadmin.Snapshot, g *kafkaadmin.Group, coordinatorKnown bool, prevCoordinator int32) bool {
	return snap.Complete() && g.DescribeErr == nil && g.FetchErr == nil &&
		coordinatorKnown && prevCoordinator == g.Coordinator && len(g.Offsets) > 0
}
