package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func sampleResults(topic string, n int) []Result {
	out := make([]Result, n)
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	for i := range out {
		out[i] = Result{
			MsgID:  MsgID(topic, int32(i%3), int64(i)),
			Number: uint64(12 + i), Factors: []uint64{1, 2, 3, 4, 6, 12},
			Topic: topic, Partition: int32(i % 3), Offset: int64(i), ProcessedAt: at,
		}
	}
	return out
}

func TestMsgID(t *testing.T) {
	if got := MsgID("numbers", 3, 42); got != "numbers-3-42" {
		t.Fatalf("MsgID = %q", got)
	}
}

// tempSQLite opens a store in a new file of the test's directory, closed
// when the test ends.
func tempSQLite(t *testing.T) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSQLiteIdempotentRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "results.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rs := sampleResults("numbers", 10)
	rs[0].Number = 18446744073709551615 // above SQLite's signed range
	if err := s.Put(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// Redeliver: same msg_ids with different content must not add or change rows.
	again := sampleResults("numbers", 12)
	for i := range again {
		again[i].Number = 99
	}
	if err := s.Put(ctx, again); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx); err != nil || n != 12 {
		t.Fatalf("Count = %d, %v; want 12", n, err)
	}
	got, ok, err := s.Get(ctx, rs[0].MsgID)
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	if got.Number != rs[0].Number || !slices.Equal(got.Factors, rs[0].Factors) || !got.ProcessedAt.Equal(rs[0].ProcessedAt) ||
		got.Topic != "numbers" || got.Partition != 0 || got.Offset != 0 {
		t.Fatalf("Get = %+v, want %+v (first write wins)", got, rs[0])
	}
	if ids, err := s.MsgIDs(ctx); err != nil || len(ids) != 12 || !slices.Contains(ids, "numbers-2-11") {
		t.Fatalf("MsgIDs = %v, %v", ids, err)
	}
	if _, ok, err := s.Get(ctx, "nope"); ok || err != nil {
		t.Fatalf("Get(missing) = %v, %v", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen: data persisted, journal mode is WAL.
	s2, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n, _ := s2.Count(ctx); n != 12 {
		t.Fatalf("Count after reopen = %d", n)
	}
	var mode string
	if err := s2.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
}

func TestSQLiteConcurrentPut(t *testing.T) {
	ctx := context.Background()
	s := tempSQLite(t)
	errc := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() { errc <- s.Put(ctx, sampleResults(fmt.Sprintf("t%d", g), 50)) }()
	}
	for g := 0; g < 4; g++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.Count(ctx); n != 200 {
		t.Fatalf("Count = %d, want 200", n)
	}
}

func TestSQLitePutCanceled(t *testing.T) {
	s := tempSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, sampleResults("t", 3)); err == nil {
		t.Fatal("Put with a canceled context succeeded")
	}
}
