// Package store persists factor-worker results.
//
// A Store writes batches of Results idempotently: the key is Result.MsgID
// ("<topic>-<partition>-<offset>", see MsgID), so redelivering a record after
// a crash or a rebalance never creates a second row. Two implementations:
// SQLite (the embedded default, pure Go, no cgo) and DynamoDB. Both report
// the results they could not write in a *PartialError (a partial batch
// response), so the worker retries and dead-letters only those.
//
// Lifecycle: Open* creates and checks the store (it may connect); Put may be
// called from one goroutine at a time per partition but is safe for
// concurrent use; Close releases resources.
package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Result is one processed record.
type Result struct {
	MsgID       string    // "<topic>-<partition>-<offset>"
	Number      uint64    // the record's N
	Factors     []uint64  // all divisors of N, ascending
	Topic       string    // source topic
	Partition   int32     // source partition
	Offset      int64     // source offset
	ProcessedAt time.Time // when the worker factored it (UTC)
}

// Store persists Results.
type Store interface {
	// Put writes every result, idempotently by MsgID: a result whose MsgID
	// is already stored is not stored again. It returns an error only if
	// some result may not be stored; the whole call may then be retried.
	// A *PartialError names the results that were not stored (every other
	// one was): a partial batch response.
	Put(ctx context.Context, results []Result) error
	// Close releases the store.
	Close() error
}

// MsgID returns the result key of a record.
func MsgID(topic string, partition int32, offset int64) string {
	return topic + "-" + strconv.FormatInt(int64(partition), 10) + "-" + strconv.FormatInt(offset, 10)
}

// PartialError is returned by Put when the store knows which results it did
// not store: Failed maps the index of each such result (in the slice given
// to Put) to its error. Every other result was stored.
type PartialError struct {
	Failed map[int]error
	all    error // set when every result failed for one reason: Unwrap returns it
}

// Unwrap returns the common cause when every result failed, else nil.
func (e *PartialError) Unwrap() error { return e.all }

func (e *PartialError) Error() string {
	idx := make([]int, 0, len(e.Failed))
	for i := range e.Failed {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	if len(idx) == 0 {
		return "no result failed"
	}
	return fmt.Sprintf("%d result(s) not stored, first (#%d): %v", len(idx), idx[0], e.Failed[idx[0]])
}
