package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
// not exceed 400 KB: keep --max-number at or below 10^12 (at most 6720
// divisors) with this store.
type DynamoDB struct {
	api   DynamoDBAPI
	table string
	// MaxAttempts bounds BatchWriteItem calls per chunk (first try plus
	// resends of unprocessed items). Default 8.
	MaxAttempts int
	// Backoff is the first wait before resending unprocessed items; it
	// doubles per attempt. Default 50ms.
	Backoff time.Duration
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
	return &DynamoDB{api: api, table: table, MaxAttempts: 8, Backoff: 50 * time.Millisecond}
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

// Put implements Store.
func (d *DynamoDB) Put(ctx context.Context, results []Result) error {
	// BatchWriteItem rejects two requests for one key in a call: keep the first.
	seen := make(map[string]bool, len(results))
	reqs := make([]types.WriteRequest, 0, len(results))
	for _, r := range results {
		if seen[r.MsgID] {
			continue
		}
		seen[r.MsgID] = true
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: resultItem(r)}})
	}
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		if err := d.writeChunk(ctx, reqs[:n]); err != nil {
			return err
		}
		reqs = reqs[n:]
	}
	return nil
}

func (d *DynamoDB) writeChunk(ctx context.Context, reqs []types.WriteRequest) error {
	attempts := max(1, d.MaxAttempts)
	backoff := d.Backoff
	for attempt := 1; ; attempt++ {
		out, err := d.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{d.table: reqs},
		})
		if err != nil {
			return fmt.Errorf("dynamodb batch write to %s: %w", d.table, err)
		}
		reqs = out.UnprocessedItems[d.table]
		if len(reqs) == 0 {
			return nil
		}
		if attempt >= attempts {
			return fmt.Errorf("dynamodb batch write to %s: %d items still unprocessed after %d attempts", d.table, len(reqs), attempt)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("dynamodb batch write to %s: %w", d.table, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
	}
}

// Close implements Store. The SDK client holds no resources to release.
func (d *DynamoDB) Close() error { return nil }
