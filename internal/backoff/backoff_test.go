package backoff

import (
	"context"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name  string
		e     Exponential
		retry int
		want  time.Duration
	}{
		{"first retry waits Min", Exponential{10 * ms, time.Second}, 1, 10 * ms},
		{"below 1 counts as 1", Exponential{10 * ms, time.Second}, 0, 10 * ms},
		{"doubles", Exponential{10 * ms, time.Second}, 4, 80 * ms},
		{"capped at Max", Exponential{10 * ms, time.Second}, 8, time.Second},
		{"far past the cap", Exponential{10 * ms, time.Second}, 1000, time.Second},
		{"Min above Max", Exponential{2 * time.Second, time.Second}, 1, time.Second},
		{"no cap", Exponential{Min: 50 * ms}, 5, 800 * ms},
		{"no cap, no overflow", Exponential{Min: time.Second}, 200, time.Second << 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.e.Delay(c.retry); got != c.want {
				t.Errorf("Delay(%d) = %s, want %s", c.retry, got, c.want)
			}
		})
	}
}

func TestJitteredStaysInUpperHalf(t *testing.T) {
	e := Exponential{100 * time.Millisecond, 20 * time.Second}
	for retry := 1; retry <= 12; retry++ {
		d := e.Delay(retry)
		seen := map[time.Duration]bool{}
		for range 50 {
			j := e.Jittered(retry)
			if j < d/2 || j > d {
				t.Fatalf("retry %d: jittered %s outside [%s, %s]", retry, j, d/2, d)
			}
			seen[j] = true
		}
		if len(seen) < 2 {
			t.Errorf("retry %d: 50 jittered waits all %v", retry, seen)
		}
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep with a live context reported cancelled")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep with a cancelled context reported the wait elapsed")
	}
}
