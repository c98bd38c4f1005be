package exporter

import (
	"time"

	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
)

// t0 and at: the test clock.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// testSnapshot is the poll fixture exporter/lag's tests use too.
var testSnapshot = resulttest.Snapshot
