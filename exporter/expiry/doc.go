// Package expiry owns committed-offset expiry: the Tracker that predicts
// and detects expired offsets (see expiry.go for the rules), its
// configuration (Config: the expiry.* and state.* options, and
// ExpectedGroup, the groups watched before they are seen, configured or
// discovered), and the state file that keeps the tracker's state across
// restarts (state.go). With HA replicas the tracker hands its state out
// (Options.Share, as JSON opaque to the receiver) and takes it back from
// the previous owner of the groups (Tracker.Restore); package ha stores it
// in between.
//
// Its exports, and who needs them: Config and Config.Validate
// (internal/appconfig embeds and checks it), ExpectedGroup (the
// configuration, discovery/lambdaesm), Tracker, NewTracker and Options
// (internal/app builds it; tests), Tracker.Observe and Tracker.Save (the
// poll loop, exporter/expiry_poll.go), Tracker.Restore (package ha).
//
// Of this module it imports only kafkaadmin and exporter/result; never the
// poll loop (exporter), exporter/lag, exporter/status, a sink, a Kafka
// client, Prometheus or AWS. The poll loop decides when to observe; the
// tracker when to save.
package expiry
