package result

// Status is a consumer's health over the last polls, in the spirit of
// Burrow's evaluator. The rules (exporter/status) are written in README.
type Status string

// Statuses, from best to worst (severity).
const (
	StatusOK      Status = "OK"
	StatusWarn    Status = "WARN"
	StatusStall   Status = "STALL"
	StatusStop    Status = "STOP"
	StatusRewind  Status = "REWIND"
	StatusExpired Status = "EXPIRED"
	StatusErr     Status = "ERR"
)

// Statuses lists every status, for exposition (one series each).
var Statuses = []Status{StatusOK, StatusWarn, StatusStall, StatusStop, StatusRewind, StatusExpired, StatusErr}

// severity orders statuses; a group's status is its worst partition's.
func (s Status) severity() int {
	for i, st := range Statuses {
		if st == s {
			return i
		}
	}
	return 0
}

// Worse returns the more severe of a and b.
func Worse(a, b Status) Status {
	if b.severity() > a.severity() {
		return b
	}
	return a
}

// StatusCode is a Status in one byte, for PartitionLag (a Result holds one
// per committed offset: a string there cost 16 bytes each). 0 is no status;
// i+1 is Statuses[i].
type StatusCode uint8

// CodeOf returns s's code (0 for an empty or unknown status).
func CodeOf(s Status) StatusCode {
	for i, st := range Statuses {
		if st == s {
			return StatusCode(i + 1)
		}
	}
	return 0
}

// Status returns the status of the code ("" for 0).
func (c StatusCode) Status() Status {
	if c == 0 || int(c) > len(Statuses) {
		return ""
	}
	return Statuses[c-1]
}

// String is the status name ("" for 0).
func (c StatusCode) String() string { return string(c.Status()) }

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

// LagSourceOf returns the source named name (LagSourceNone for "" or an
// unknown name).
func LagSourceOf(name string) LagSource {
	for i, n := range lagSourceNames {
		if n == name {
			return LagSource(i)
		}
	}
	return LagSourceNone
}
