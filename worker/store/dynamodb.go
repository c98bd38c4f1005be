package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offsetlag/offsetlag/internal/backoff"
)

// DynamoDBAPI is the subset of *dynamodb.Client the store uses.
type DynamoDBAPI interface {
	// BatchWriteItem writes up to 25 items; some may come back unprocessed.
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// DynamoDB is a Store in a DynamoDB table keyed by the string attribute
// msg_id (hash key only), like the seed's table.
//
// Item: msg_id (S), number (N), factors (L of N, ascending), topic (S),
// partition (N), offset (N), processed_at (S, RFC 3339 UTC). Put uses
// BatchWriteItem in chunks of 25 and resends UnprocessedItems with backoff.
// A PutRequest replaces an item with the same key, so redelivery keeps one
// item per msg_id (its processed_at is that of the last write). An item may
// not exceed 400 KB (see MaxItemBytes and MaxNumberForItemLimit).
type DynamoDB struct {
	api   DynamoDBAPI
	table string
	// MaxAttempts bounds BatchWriteItem calls per chunk (first try plus
	// resends of unprocessed items). Default 8.
	MaxAttempts int
	// Backoff is the first wait before resending unprocessed items; it
	// doubles per attempt. Default 50ms.
	Backoff time.Duration
	// Concurrency bounds the chunks of 25 written at once. Default 4.
	Concurrency int
}

var _ Store = (*DynamoDB)(nil)

// DynamoDBConfig configures OpenDynamoDB.
type DynamoDBConfig struct {
	Table    string // table name (required)
	Endpoint string // endpoint override, e.g. http://127.0.0.1:5000 for moto; "" = AWS
}

// OpenDynamoDB returns a DynamoDB store using an AWS config (credentials and
// region as loaded by config.LoadDefaultConfig).
func OpenDynamoDB(awsCfg aws.Config, cfg DynamoDBConfig) (*DynamoDB, error) {
	if cfg.Table == "" {
		return nil, errors.New("dynamodb store: table name is required")
	}
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return NewDynamoDB(client, cfg.Table), nil
}

// NewDynamoDB returns a DynamoDB store over api.
func NewDynamoDB(api DynamoDBAPI, table string) *DynamoDB {
	return &DynamoDB{api: api, table: table, MaxAttempts: 8, Backoff: 50 * time.Millisecond, Concurrency: 4}
}

// CreateDynamoDBTable creates the results table (on-demand billing) and
// waits until it is active. An existing table is not an error.
func CreateDynamoDBTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("msg_id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("msg_id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create dynamodb table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for dynamodb table %s: %w", table, err)
	}
	return nil
}

func resultItem(r Result) map[string]types.AttributeValue {
	factors := make([]types.AttributeValue, len(r.Factors))
	for i, f := range r.Factors {
		factors[i] = &types.AttributeValueMemberN{Value: strconv.FormatUint(f, 10)}
	}
	return map[string]types.AttributeValue{
		"msg_id":       &types.AttributeValueMemberS{Value: r.MsgID},
		"number":       &types.AttributeValueMemberN{Value: strconv.FormatUint(r.Number, 10)},
		"factors":      &types.AttributeValueMemberL{Value: factors},
		"topic":        &types.AttributeValueMemberS{Value: r.Topic},
		"partition":    &types.AttributeValueMemberN{Value: strconv.FormatInt(int64(r.Partition), 10)},
		"offset":       &types.AttributeValueMemberN{Value: strconv.FormatInt(r.Offset, 10)},
		"processed_at": &types.AttributeValueMemberS{Value: r.ProcessedAt.UTC().Format(time.RFC3339Nano)},
	}
}

// Put implements Store. Chunks of 25 are written concurrently (at most
// Concurrency at a time). It returns nil when every result was written, a
// *PartialError naming the results that were not (the others were) when
// only some chunks or items failed, and a plain error when the table could
// not be written at all.
//
// A chunk rejected with a ValidationException (an item above the 400 KB
// limit, for example; DynamoDB rejects the whole request for one bad item)
// is written again item by item, so only the items DynamoDB itself rejects
// are reported failed. Unprocessed items that are still unprocessed after
// MaxAttempts calls are reported failed. A chunk whose call failed
// otherwise (network, throttling past the SDK's retries, timeout) is
// reported failed as a whole: such an error does not say whether DynamoDB
// applied the request, so its items may be stored and still reported.
func (d *DynamoDB) Put(ctx context.Context, results []Result) error {
	// BatchWriteItem rejects two requests for one key in a call: keep the first.
	seen := make(map[string]int, len(results))
	var dupOf []int // index of a later duplicate -> index of its first occurrence
	reqs := make([]types.WriteRequest, 0, len(results))
	idx := make([]int, 0, len(results)) // reqs[i] is results[idx[i]]
	for i, r := range results {
		if first, ok := seen[r.MsgID]; ok {
			dupOf = append(dupOf, i, first)
			continue
		}
		seen[r.MsgID] = i
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: resultItem(r)}})
		idx = append(idx, i)
	}
	var (
		mu     sync.Mutex
		failed = map[int]error{}
		wg     sync.WaitGroup
		sem    = make(chan struct{}, max(1, d.Concurrency))
	)
	fail := func(positions []int, err error) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range positions {
			failed[idx[p]] = err
		}
	}
	for lo := 0; lo < len(reqs); lo += 25 {
		hi := min(lo+25, len(reqs))
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.writeChunk(ctx, reqs[lo:hi], lo, fail)
		}()
	}
	wg.Wait()
	for i := 0; i < len(dupOf); i += 2 {
		if err, ok := failed[dupOf[i+1]]; ok {
			failed[dupOf[i]] = err
		}
	}
	switch {
	case len(failed) == 0:
		return nil
	case len(failed) == len(results):
		for _, err := range failed {
			return &PartialError{Failed: failed, all: err}
		}
	}
	return &PartialError{Failed: failed}
}

// writeChunk writes up to 25 requests (positions base.. in the Put's
// request list), resending unprocessed items with backoff, and reports the
// positions it could not write to fail.
func (d *DynamoDB) writeChunk(ctx context.Context, reqs []types.WriteRequest, base int, fail func([]int, error)) {
	pos := make(map[string]int, len(reqs)) // msg_id -> position
	for i, r := range reqs {
		pos[r.PutRequest.Item["msg_id"].(*types.AttributeValueMemberS).Value] = base + i
	}
	positions := func(rs []types.WriteRequest) []int {
		out := make([]int, len(rs))
		for i, r := range rs {
			out[i] = pos[r.PutRequest.Item["msg_id"].(*types.AttributeValueMemberS).Value]
		}
		return out
	}
	attempts := max(1, d.MaxAttempts)
	wait := backoff.Exponential{Min: d.Backoff} // uncapped: attempts are bounded
	for attempt := 1; ; attempt++ {
		out, err := d.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{d.table: reqs},
		})
		var ae interface{ ErrorCode() string }
		isValidation := errors.As(err, &ae) && ae.ErrorCode() == "ValidationException"
		switch {
		case err != nil && isValidation && len(reqs) > 1:
			// One bad item fails the whole request: write them one by one
			// so that only the bad ones are reported.
			for _, r := range reqs {
				d.writeChunk(ctx, []types.WriteRequest{r}, pos[r.PutRequest.Item["msg_id"].(*types.AttributeValueMemberS).Value], fail)
			}
			return
		case err != nil:
			fail(positions(reqs), fmt.Errorf("dynamodb batch write to %s: %w", d.table, err))
			return
		}
		reqs = out.UnprocessedItems[d.table]
		if len(reqs) == 0 {
			return
		}
		if attempt >= attempts {
			fail(positions(reqs), fmt.Errorf("dynamodb batch write to %s: item still unprocessed after %d attempts", d.table, attempt))
			return
		}
		if !backoff.Sleep(ctx, wait.Delay(attempt)) {
			fail(positions(reqs), fmt.Errorf("dynamodb batch write to %s: %w", d.table, ctx.Err()))
			return
		}
	}
}

// Close implements Store. The SDK client holds no resources to release.
func (d *DynamoDB) Close() error { return nil }
