package mototest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offsetlag/offsetlag/internal/testing/mototest"
)

func TestDynamoDB(t *testing.T) {
	ep := mototest.Start(t)
	ctx := context.Background()
	db := mototest.DynamoDB(ep)
	table := createTable(t, db, "factors-", "n", ddbtypes.ScalarAttributeTypeN)
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
		"n":       &ddbtypes.AttributeValueMemberN{Value: "12"},
		"factors": &ddbtypes.AttributeValueMemberS{Value: "1,2,3,4,6,12"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"n": &ddbtypes.AttributeValueMemberN{Value: "12"}}})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := out.Item["factors"].(*ddbtypes.AttributeValueMemberS)
	if !ok || f.Value != "1,2,3,4,6,12" {
		t.Fatalf("GetItem = %#v", out.Item)
	}

	// Keys and Item on a table with a string hash key.
	strTable := createTable(t, db, "ids-", "id", ddbtypes.ScalarAttributeTypeS)
	for _, id := range []string{"a", "b", "c"} {
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(strTable), Item: map[string]ddbtypes.AttributeValue{
			"id": &ddbtypes.AttributeValueMemberS{Value: id}, "v": &ddbtypes.AttributeValueMemberS{Value: id + id},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if keys := mototest.Keys(t, db, strTable, "id"); len(keys) != 3 || keys["a"] != 1 || keys["b"] != 1 || keys["c"] != 1 {
		t.Errorf("Keys = %v, want a, b and c once each", keys)
	}
	if it := mototest.Item(t, db, strTable, "id", "b"); it == nil || it["v"].(*ddbtypes.AttributeValueMemberS).Value != "bb" {
		t.Errorf("Item b = %v", it)
	}
	if it := mototest.Item(t, db, strTable, "id", "zz"); it != nil {
		t.Errorf("Item zz = %v, want none", it)
	}

	// Reset drops the tables.
	if err := mototest.Reset(ep); err != nil {
		t.Fatal(err)
	}
	tables, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables.TableNames) != 0 {
		t.Fatalf("tables after reset: %v", tables.TableNames)
	}
}

// createTable creates a table named prefix plus a unique suffix with the
// hash key attribute key of type typ, and returns its name.
func createTable(t *testing.T, db *dynamodb.Client, prefix, key string, typ ddbtypes.ScalarAttributeType) string {
	t.Helper()
	name := mototest.TableName(prefix)
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: typ}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(key), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func TestCloudWatchJSON(t *testing.T) {
	ep := mototest.Start(t)
	ctx := context.Background()
	// cloudwatch.New (not NewFromConfig) always gzips PutMetricData: moto must accept that too.
	for _, name := range []string{"NewFromConfig", "New"} {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			var cw *cloudwatch.Client
			if name == "New" {
				cw = cloudwatch.New(cloudwatch.Options{
					Region: mototest.Region, BaseEndpoint: aws.String(ep),
					Credentials: mototest.AWSConfig(ep).Credentials,
					HTTPClient:  &http.Client{Transport: rec},
				}, mototest.JSONProtocol)
			} else {
				cw = mototest.CloudWatch(ep, func(o *cloudwatch.Options) { o.HTTPClient = &http.Client{Transport: rec} })
			}
			ns := "offsetlag/test/" + name
			now := time.Now().Truncate(time.Second)
			dims := []cwtypes.Dimension{
				// A cluster name unique per subtest: moto 5.2.5's GetMetricData ignores the namespace
				// when the query has dimensions, so equal dimensions would mix the subtests' data.
				{Name: aws.String("Cluster Name"), Value: aws.String("c-" + name)},
				{Name: aws.String("Consumer Group"), Value: aws.String("g1")},
				{Name: aws.String("Topic"), Value: aws.String("t1")},
			}
			_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
				Namespace: aws.String(ns),
				MetricData: []cwtypes.MetricDatum{
					{MetricName: aws.String("SumOffsetLag"), Dimensions: dims, Value: aws.Float64(42), Unit: cwtypes.StandardUnitCount, Timestamp: aws.Time(now)},
					{MetricName: aws.String("MaxOffsetLag"), Dimensions: dims, Value: aws.Float64(17), Unit: cwtypes.StandardUnitCount, Timestamp: aws.Time(now)},
				},
			})
			if err != nil {
				t.Fatalf("PutMetricData: %v", err)
			}
			out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(now.Add(-5 * time.Minute)),
				EndTime:   aws.Time(now.Add(5 * time.Minute)),
				MetricDataQueries: []cwtypes.MetricDataQuery{
					{Id: aws.String("sum"), MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String("SumOffsetLag"), Dimensions: dims}, Period: aws.Int32(60), Stat: aws.String("Maximum")}},
					{Id: aws.String("max"), MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String("MaxOffsetLag"), Dimensions: dims}, Period: aws.Int32(60), Stat: aws.String("Maximum")}},
				},
			})
			if err != nil {
				t.Fatalf("GetMetricData: %v", err)
			}
			got := map[string][]float64{}
			for _, r := range out.MetricDataResults {
				got[aws.ToString(r.Id)] = r.Values
			}
			if len(got["sum"]) != 1 || got["sum"][0] != 42 || len(got["max"]) != 1 || got["max"][0] != 17 {
				t.Fatalf("GetMetricData values = %v", got)
			}
			// The JSON protocol went over the wire, and the small PutMetricData was gzipped. Both clients
			// gzip here: the 10 KiB threshold (RequestMinCompressSizeBytes) is set by
			// config.LoadDefaultConfig, and a bare aws.Config (as AWSConfig returns) leaves it at 0.
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.reqs) != 2 {
				t.Fatalf("recorded %d requests, want 2", len(rec.reqs))
			}
			put := rec.reqs[0]
			if put.target != "GraniteServiceVersion20100801.PutMetricData" || put.contentType != "application/x-amz-json-1.0" {
				t.Errorf("PutMetricData sent as target=%q content-type=%q", put.target, put.contentType)
			}
			if put.encoding != "gzip" {
				t.Errorf("PutMetricData Content-Encoding = %q (client %s)", put.encoding, name)
			}
		})
	}
}

type recorded struct{ target, contentType, encoding string }

// recorder is an http.RoundTripper that records the protocol headers of each request.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Header.Get("X-Amz-Target"), req.Header.Get("Content-Type"), req.Header.Get("Content-Encoding")})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}
