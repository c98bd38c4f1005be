// Package backoff is the module's one retry wait: an exponential delay
// between a minimum and a maximum, with optional "equal jitter", and a sleep
// that ends early when its context does.
//
// It is used by the worker (connecting, store writes, dead letters), the
// DynamoDB store, the demo and the CloudWatch publisher (as the AWS SDK
// retryer's BackoffDelayer). It imports nothing of the module.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Exponential is a delay that doubles per retry from Min, capped at Max
// (Max <= 0: no cap).
type Exponential struct {
	Min, Max time.Duration
}

// Delay is the wait before retry number retry (1 = the first retry):
// Min * 2^(retry-1), at most Max. A retry below 1 counts as 1.
func (e Exponential) Delay(retry int) time.Duration {
	retry = max(retry, 1)
	d := e.Min
	for i := 1; i < retry; i++ {
		if e.Max > 0 && d >= e.Max {
			break
		}
		if d > (1<<62)/2 {
			break // would overflow; an uncapped delay stays huge
		}
		d *= 2
	}
	if e.Max > 0 {
		d = min(d, e.Max)
	}
	return d
}

// Jittered is Delay with a random part of up to half taken off ("equal
// jitter": the wait still grows, but clients that failed together spread
// out).
func (e Exponential) Jittered(retry int) time.Duration {
	half := e.Delay(retry) / 2
	return half + rand.N(half+1)
}

// Sleep waits d or until ctx is done; it reports whether d elapsed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
