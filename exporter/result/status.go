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
