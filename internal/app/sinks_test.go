package app

import (
	"testing"

	"github.com/offsetlag/offsetlag/exporter/result"
)

func TestOnResults(t *testing.T) {
	if onResults() != nil || onResults(nil, nil) != nil {
		t.Fatal("no functions: want nil")
	}
	var calls []string
	a := func(*result.Result) { calls = append(calls, "a") }
	b := func(*result.Result) { calls = append(calls, "b") }
	onResults(nil, a)(&result.Result{})
	onResults(a, nil, b)(&result.Result{})
	if got := len(calls); got != 3 || calls[0] != "a" || calls[1] != "a" || calls[2] != "b" {
		t.Fatalf("calls %v", calls)
	}
}
