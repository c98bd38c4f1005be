package store

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offsetlag/offsetlag/internal/testing/mototest"
)

// fakeDynamo records BatchWriteItem calls and leaves the last `unprocessed`
// items of the first `flaky` calls unprocessed.
type fakeDynamo struct {
	mu          sync.Mutex
	calls       int
	sizes       []int
	items       map[string]map[string]types.AttributeValue
	flaky       int
	unprocessed int
	err         error
}

func (f *fakeDynamo) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	for table, reqs := range in.RequestItems {
		f.sizes = append(f.sizes, len(reqs))
		if len(reqs) > 25 {
			return nil, errors.New("too many items")
		}
		keep := len(reqs)
		if f.calls <= f.flaky {
			keep = max(0, len(reqs)-f.unprocessed)
			out.UnprocessedItems[table] = reqs[keep:]
		}
		seen := map[string]bool{}
		for _, r := range reqs[:keep] {
			id := r.PutRequest.Item["msg_id"].(*types.AttributeValueMemberS).Value
			if seen[id] {
				return nil, errors.New("duplicate key in one request")
			}
			seen[id] = true
			f.items[id] = r.PutRequest.Item
		}
	}
	return out, nil
}

func TestDynamoDBChunksAndRetriesUnprocessed(t *testing.T) {
	f := &fakeDynamo{items: map[string]map[string]types.AttributeValue{}, flaky: 3, unprocessed: 5}
	d := NewDynamoDB(f, "results")
	d.Backoff = time.Millisecond
	rs := sampleResults("numbers", 60)
	rs = append(rs, rs[3]) // duplicate in one batch
	if err := d.Put(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	if len(f.items) != 60 {
		t.Fatalf("stored %d items, want 60", len(f.items))
	}
	// 60 items -> chunks of 25, 25, 10; the first three calls leave 5 behind.
	if f.calls != 6 {
		t.Fatalf("calls = %d (sizes %v), want 6", f.calls, f.sizes)
	}
	it := f.items[rs[7].MsgID]
	if it["number"].(*types.AttributeValueMemberN).Value != strconv.FormatUint(rs[7].Number, 10) ||
		len(it["factors"].(*types.AttributeValueMemberL).Value) != 6 {
		t.Fatalf("item = %v", it)
	}
}

func TestDynamoDBGivesUp(t *testing.T) {
	f := &fakeDynamo{items: map[string]map[string]types.AttributeValue{}, flaky: 100, unprocessed: 1}
	d := NewDynamoDB(f, "results")
	d.Backoff, d.MaxAttempts = time.Millisecond, 3
	if err := d.Put(context.Background(), sampleResults("t", 2)); err == nil {
		t.Fatal("Put succeeded with items never processed")
	}
	if f.calls != 3 {
		t.Fatalf("calls = %d, want 3", f.calls)
	}
	f2 := &fakeDynamo{err: errors.New("boom")}
	if err := NewDynamoDB(f2, "results").Put(context.Background(), sampleResults("t", 1)); err == nil || !errors.Is(err, f2.err) {
		t.Fatalf("Put error = %v, want wrapped boom", err)
	}
}

// motoStore opens the store on a new table of a moto server
// (OFFSETLAG_TEST_MOTO_ENDPOINT if set, else one started for the test;
// skipped when moto cannot run, except with CI=true: fatal), created as the
// worker creates it, and returns the store, its client and the table's name.
func motoStore(t *testing.T, prefix string) (*DynamoDB, *dynamodb.Client, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := mototest.Start(t)
	table := mototest.TableName(prefix)
	d, err := OpenDynamoDB(mototest.AWSConfig(ep), DynamoDBConfig{Table: table, Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	client := d.api.(*dynamodb.Client)
	if err := CreateDynamoDBTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	return d, client, table
}

func TestDynamoDBAgainstMoto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, client, table := motoStore(t, "factor-results-")
	rs := sampleResults("numbers", 40)
	if err := d.Put(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, rs[:30]); err != nil { // redelivery
		t.Fatal(err)
	}
	if ids := mototest.Keys(t, client, table, "msg_id"); len(ids) != 40 {
		t.Fatalf("table holds %d items, want 40", len(ids))
	}
	got := mototest.Item(t, client, table, "msg_id", rs[5].MsgID)
	fs, ok := got["factors"].(*types.AttributeValueMemberL)
	if !ok || len(fs.Value) != 6 || fs.Value[5].(*types.AttributeValueMemberN).Value != "12" {
		t.Fatalf("factors = %#v", got["factors"])
	}
	if n := got["number"].(*types.AttributeValueMemberN).Value; n != strconv.FormatUint(rs[5].Number, 10) {
		t.Fatalf("number = %s", n)
	}
}
