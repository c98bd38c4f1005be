package result

import (
	"testing"
	"unsafe"
)

func TestLag(t *testing.T) {
	tests := []struct {
		name           string
		end, committed int64
		want           int64
	}{
		{"behind", 100, 40, 60},
		{"caught up", 100, 100, 0},
		{"commit read after a newer end: clamped", 100, 105, 0},
		{"empty partition", 0, 0, 0},
		{"nothing consumed yet", 7, 0, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Lag(tt.end, tt.committed); got != tt.want {
				t.Errorf("Lag(%d, %d) = %d, want %d", tt.end, tt.committed, got, tt.want)
			}
		})
	}
}

func TestOutOfRange(t *testing.T) {
	tests := []struct {
		name             string
		start, committed int64
		want             bool
		lost             int64
	}{
		{"inside the log", 10, 12, false, 0},
		{"at the log start", 10, 10, false, 0},
		{"below the log start", 10, 4, true, 6},
		{"unknown start", -1, 4, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lost := OutOfRange(tt.start, tt.committed)
			if got != tt.want || lost != tt.lost {
				t.Errorf("OutOfRange(%d, %d) = %v, %d; want %v, %d", tt.start, tt.committed, got, lost, tt.want, tt.lost)
			}
		})
	}
}

func TestWorse(t *testing.T) {
	if Worse(StatusOK, StatusStall) != StatusStall || Worse(StatusRewind, StatusWarn) != StatusRewind {
		t.Error("Worse does not pick the more severe status")
	}
}

// TestPartitionLagCompact: a Result holds one PartitionLag per committed
// offset (4M at the benchmark's largest size), so its status and time-lag
// source are one byte each and the struct stays at 48 bytes; the codes
// round-trip to the names exported.
func TestPartitionLagCompact(t *testing.T) {
	if n := unsafe.Sizeof(PartitionLag{}); n > 48 {
		t.Errorf("PartitionLag is %d bytes, want at most 48", n)
	}
	if c := StatusCode(0); c.Status() != "" || c.String() != "" || CodeOf("") != 0 || CodeOf("nope") != 0 {
		t.Error("status code 0 is not the empty status")
	}
	for _, st := range Statuses {
		if got := CodeOf(st).Status(); got != st {
			t.Errorf("status %s round-trips to %q", st, got)
		}
	}
	for _, name := range []string{"", "caught_up", "interpolated", "exact"} {
		if got := LagSourceOf(name).String(); got != name {
			t.Errorf("lag source %q round-trips to %q", name, got)
		}
	}
	if LagSourceOf("none") != LagSourceNone || LagSource(9).String() != "" {
		t.Error("unknown lag sources are not none")
	}
}
