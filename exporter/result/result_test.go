package result

import "testing"

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
