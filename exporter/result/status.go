package result

// Status is a consumer's health over the last polls, in the spirit of
// Burrow's evaluator. The rules (exporter/status) are written in README.
// It is one byte, for PartitionLag (a Result holds one per committed
// offset: a string there cost 16 bytes each); 0 is no status. Statuses are
// numbered from best to worst, so the more severe of two is the larger.
type Status uint8

// Statuses, from best to worst (severity).
const (
	StatusOK Status = iota + 1
	StatusWarn
	StatusStall
	StatusStop
	StatusRewind
	StatusExpired
	StatusErr
)

var statusNames = [...]string{"", "OK", "WARN", "STALL", "STOP", "REWIND", "EXPIRED", "ERR"}

// Statuses lists every status, for exposition (one series each).
var Statuses = []Status{StatusOK, StatusWarn, StatusStall, StatusStop, StatusRewind, StatusExpired, StatusErr}

// String is the status name ("" for 0 or an unknown status).
func (s Status) String() string {
	if int(s) >= len(statusNames) {
		return ""
	}
	return statusNames[s]
}

// LagSource says how a partition's time lag was obtained. It is one byte,
// for PartitionLag; String is the name exported as a label value.
type LagSource uint8

// Time lag sources.
const (
	// LagSourceNone: no estimate (not enough samples, commit older than
	// the window and no exact read).
	LagSourceNone LagSource = iota
	// LagSourceCaughtUp: committed offset at the log end; lag is 0.
	LagSourceCaughtUp
	// LagSourceInterpolated: from the window of end-offset samples.
	LagSourceInterpolated
	// LagSourceExact: from the timestamp of the record at the committed
	// offset.
	LagSourceExact
)

var lagSourceNames = [...]string{"", "caught_up", "interpolated", "exact"}

// String is the source's name: "", caught_up, interpolated or exact.
func (s LagSource) String() string {
	if int(s) >= len(lagSourceNames) {
		return ""
	}
	return lagSourceNames[s]
}
