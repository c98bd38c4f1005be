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

func TestStatusOrder(t *testing.T) {
	// The more severe of two statuses is the larger (exporter/status
	// takes the max): their order is the order of Statuses.
	for i := 1; i < len(Statuses); i++ {
		if Statuses[i] <= Statuses[i-1] {
			t.Errorf("status %s is not more severe than %s", Statuses[i], Statuses[i-1])
		}
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
	if Status(0).String() != "" || Status(99).String() != "" {
		t.Error("status 0 (or unknown) is not the empty status")
	}
	want := []string{"OK", "WARN", "STALL", "STOP", "REWIND", "EXPIRED", "ERR"}
	for i, st := range Statuses {
		if got := st.String(); got != want[i] {
			t.Errorf("status %d is named %q, want %q", st, got, want[i])
		}
	}
	for src, name := range map[LagSource]string{LagSourceNone: "", LagSourceCaughtUp: "caught_up", LagSourceInterpolated: "interpolated", LagSourceExact: "exact", 9: ""} {
		if got := src.String(); got != name {
			t.Errorf("lag source %d is named %q, want %q", src, got, name)
		}
	}
}
