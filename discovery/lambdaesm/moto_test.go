package lambdaesm_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
	"github.com/offsetlag/offsetlag/internal/testing/mototest"
)

// TestMotoKafkaMappings records what moto's Lambda backend does with Kafka
// event source mappings: it lists mappings, but CreateEventSourceMapping
// accepts only SQS, DynamoDB stream and Kinesis sources (moto 5.2.5 answers
// "Invalid EventSourceArn" for an MSK cluster or a self-managed Kafka
// source) and ListEventSourceMappings has no Marker/NextMarker pagination.
// The discovery tests therefore use the stand-in (standin_test.go); this
// test fails when moto learns Kafka, so that they can move to it.
func TestMotoKafkaMappings(t *testing.T) {
	ep := mototest.Start(t)
	cfg := mototest.AWSConfig(ep)
	client := lambda.NewFromConfig(cfg)
	// moto checks that the function's role exists (IAM CreateRole, query
	// protocol; moto routes on the credential scope and does not verify
	// the signature).
	form := url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"lambda"},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ep+"/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+mototest.AccessKey+"/20250101/"+mototest.Region+
		"/iam/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`<Arn>([^<]+)</Arn>`).FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("moto CreateRole: %s: %s", resp.Status, body)
	}
	role := string(m[1])
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("index.py")
	_, _ = w.Write([]byte("def handler(event, context):\n    return None\n"))
	_ = zw.Close()
	_, err = client.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("factor"), Runtime: types.RuntimePython312, Handler: aws.String("index.handler"),
		Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zipped.Bytes()},
	})
	if err != nil {
		t.Fatalf("moto CreateFunction: %v", err)
	}
	_, mskErr := client.CreateEventSourceMapping(t.Context(), &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("factor"), EventSourceArn: aws.String(mskARN), Topics: []string{"numbers"},
		StartingPosition: types.EventSourcePositionLatest, Enabled: aws.Bool(false),
	})
	_, selfErr := client.CreateEventSourceMapping(t.Context(), &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("factor"), Topics: []string{"numbers"},
		StartingPosition: types.EventSourcePositionTrimHorizon,
		SelfManagedEventSource: &types.SelfManagedEventSource{
			Endpoints: map[string][]string{"KAFKA_BOOTSTRAP_SERVERS": {"k1:9092"}}},
	})
	t.Logf("moto CreateEventSourceMapping: MSK: %v; self-managed Kafka: %v", mskErr, selfErr)
	if mskErr == nil || selfErr == nil {
		t.Fatal("moto now creates Kafka event source mappings: move the discovery tests from the stand-in to moto")
	}
	if !strings.Contains(mskErr.Error(), "EventSourceArn") {
		t.Errorf("unexpected MSK error: %v", mskErr)
	}

	// Listing against moto's real wire format works (and finds nothing
	// Kafka).
	d, err := lambdaesm.New(t.Context(), lambdaesm.Config{AWSConfig: &cfg, Settings: lambdaesm.Settings{Endpoint: ep}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Refresh(t.Context()); err != nil {
		t.Fatalf("refresh against moto: %v", err)
	}
	if n := len(d.Snapshot().Mappings); n != 0 {
		t.Errorf("%d mappings, want 0", n)
	}
}
