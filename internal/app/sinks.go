package app

import (
	"github.com/offsetlag/offsetlag/exporter/result"
)

// onResults calls every non-nil f in order with each new Result (the
// exporter has one OnResult; the status page history and the CloudWatch
// publisher both want it). Each f must not block. nil when there is none.
func onResults(fs ...func(*result.Result)) func(*result.Result) {
	var set []func(*result.Result)
	for _, f := range fs {
		if f != nil {
			set = append(set, f)
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return set[0]
	}
	return func(r *result.Result) {
		for _, f := range set {
			f(r)
		}
	}
}
