package mototest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB returns a DynamoDB client for moto at endpoint.
func DynamoDB(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(endpoint))
}

// TableName is prefix followed by a suffix unique to this moment: a shared
// moto server (EnvEndpoint) keeps the tables of earlier runs.
func TableName(prefix string) string {
	return prefix + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// Keys scans every item of table and counts the items by the value of
// their string attribute key (the table's hash key: one each); it fails t
// on an error.
func Keys(t testing.TB, client *dynamodb.Client, table, key string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys := map[string]int{}
	var start map[string]types.AttributeValue
	for {
		out, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start,
			ProjectionExpression: aws.String(key)})
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, it := range out.Items {
			s, ok := it[key].(*types.AttributeValueMemberS)
			if !ok {
				t.Fatalf("scan %s: an item without the string attribute %s: %v", table, key, it)
			}
			keys[s.Value]++
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return keys
		}
	}
}

// Item returns the item of table whose string hash key attribute key is
// value, or nil when there is none; it fails t on an error.
func Item(t testing.TB, client *dynamodb.Client, table, key, value string) map[string]types.AttributeValue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{key: &types.AttributeValueMemberS{Value: value}}})
	if err != nil {
		t.Fatalf("get %s=%s from %s: %v", key, value, table, err)
	}
	return out.Item
}
