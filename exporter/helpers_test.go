package exporter

import (
	"errors"
	"time"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// t0, at and testSnapshot are the same helpers as exporter/lag's tests.

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func testSnapshot() *kafkaadmin.Snapshot {
	return &kafkaadmin.Snapshot{
		Cluster: "c",
		Topics: []kafkaadmin.Topic{
			{Name: "a", Partitions: []kafkaadmin.Partition{
				{ID: 0, Start: 0, End: 100},
				{ID: 1, Start: 50, End: 80},
				{ID: 2, Start: 0, End: -1, EndErr: errors.New("leader gone")},
			}},
			{Name: "b", Partitions: []kafkaadmin.Partition{{ID: 0, Start: 0, End: 10}}},
			{Name: "c", Partitions: []kafkaadmin.Partition{{ID: 0, Start: 0, End: 3}, {ID: 1, Start: 0, End: 3}}},
		},
	}
}
