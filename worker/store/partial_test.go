package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offsetlag/offsetlag/internal/testing/mototest"
	"github.com/offsetlag/offsetlag/worker/factor"
)

// poisonNumber has 103,680 divisors: its item is far above DynamoDB's (and
// moto's) 400 KB limit.
const poisonNumber = 897612484786617600

func failedIndexes(t *testing.T, err error) map[int]bool {
	t.Helper()
	var pe *PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("Put error = %v, want a *PartialError", err)
	}
	out := map[int]bool{}
	for i := range pe.Failed {
		out[i] = true
	}
	return out
}

// TestSQLitePartialBatch: rows rejected by the database (here a trigger,
// as an operator might add) fail alone; the rest of the batch is stored.
func TestSQLitePartialBatch(t *testing.T) {
	ctx := context.Background()
	s := tempSQLite(t)
	if _, err := s.db.ExecContext(ctx, `CREATE TRIGGER reject_poison BEFORE INSERT ON results
		WHEN NEW.number LIKE '777%' BEGIN SELECT RAISE(ABORT, 'poison number'); END`); err != nil {
		t.Fatal(err)
	}
	rs := sampleResults("numbers", 30)
	rs[4].Number, rs[17].Number = 7771, 7772
	err := s.Put(ctx, rs)
	if got := failedIndexes(t, err); len(got) != 2 || !got[4] || !got[17] {
		t.Fatalf("failed = %v, want {4, 17} (err %v)", got, err)
	}
	if n, _ := s.Count(ctx); n != 28 {
		t.Fatalf("rows = %d, want 28", n)
	}
	if _, ok, _ := s.Get(ctx, rs[4].MsgID); ok {
		t.Fatal("rejected row stored")
	}
	// All rejected: still a PartialError naming every row, nothing stored.
	err = s.Put(ctx, []Result{rs[4], rs[17]})
	if got := failedIndexes(t, err); len(got) != 2 {
		t.Fatalf("failed = %v", got)
	}
	// Retrying the good ones is idempotent.
	if err := s.Put(ctx, rs[:4]); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx); n != 28 {
		t.Fatalf("rows = %d, want 28", n)
	}
}

// TestDynamoDBPartialBatchAgainstMoto: an item above the 400 KB limit makes
// DynamoDB (moto) reject its whole BatchWriteItem with a
// ValidationException; the store writes that chunk item by item and
// reports only the oversized item, every other item is stored once.
func TestDynamoDBPartialBatchAgainstMoto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, client, table := motoStore(t, "partial-")
	rs := sampleResults("numbers", 60)
	for _, i := range []int{3, 40} {
		rs[i].Number, rs[i].Factors = poisonNumber, factor.Divisors(poisonNumber)
	}
	err := d.Put(ctx, rs)
	if got := failedIndexes(t, err); len(got) != 2 || !got[3] || !got[40] {
		t.Fatalf("failed = %v, want {3, 40} (err %v)", got, err)
	}
	if ids := mototest.Keys(t, client, table, "msg_id"); len(ids) != 58 {
		t.Fatalf("table holds %d items, want 58", len(ids))
	}
	for _, i := range []int{3, 40} {
		if got := mototest.Item(t, client, table, "msg_id", rs[i].MsgID); got != nil {
			t.Fatalf("poison item %d stored: %v", i, got)
		}
	}
}

func TestDynamoDBItemLimit(t *testing.T) {
	for _, c := range []struct {
		limit uint64
		want  int
	}{{1, 1}, {12, 6}, {1_000_000, 240}, {1e12, 6720}, {1e18, 103680}, {poisonNumber, 103680}} {
		if got := MaxDivisors(c.limit); got != c.want {
			t.Errorf("MaxDivisors(%d) = %d, want %d", c.limit, got, c.want)
		}
		if c.limit == poisonNumber {
			if got := len(factor.Divisors(poisonNumber)); got != c.want {
				t.Errorf("divisors of %d: %d, want %d", uint64(poisonNumber), got, c.want)
			}
		}
	}
	if err := CheckDynamoDBMaxNumber(1e12, 249); err != nil {
		t.Fatalf("10^12 rejected: %v", err)
	}
	if err := CheckDynamoDBMaxNumber(1e18, 249); err == nil {
		t.Fatal("10^18 accepted")
	}
	largest := LargestDynamoDBMaxNumber(249)
	if CheckDynamoDBMaxNumber(largest, 249) != nil || CheckDynamoDBMaxNumber(largest+1, 249) == nil {
		t.Fatalf("largest accepted %d is not the boundary", largest)
	}
	// The bound holds for the number with the most divisors below it.
	item := resultItem(Result{MsgID: MsgID("t", 1, 1), Number: poisonNumber, Factors: factor.Divisors(poisonNumber), Topic: "t"})
	if n := approxItemBytes(item); n > DynamoDBItemBytesBound(poisonNumber, 1) {
		t.Fatalf("item of %d is %d bytes, above the bound %d", uint64(poisonNumber), n, DynamoDBItemBytesBound(poisonNumber, 1))
	}
}

// approxItemBytes sizes an item by DynamoDB's documented rules.
func approxItemBytes(item map[string]types.AttributeValue) int {
	var size func(types.AttributeValue) int
	size = func(v types.AttributeValue) int {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			return len(v.Value)
		case *types.AttributeValueMemberN:
			return (len(v.Value)+1)/2 + 1
		case *types.AttributeValueMemberL:
			n := 3
			for _, e := range v.Value {
				n += 1 + size(e)
			}
			return n
		}
		return 0
	}
	n := 0
	for k, v := range item {
		n += len(k) + size(v)
	}
	return n
}
