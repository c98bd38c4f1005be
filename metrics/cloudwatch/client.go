package cloudwatch

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// Protocol is the wire protocol of the CloudWatch client.
type Protocol string

// Protocols. The SDK's default is Smithy RPC v2 CBOR; moto and some
// proxies speak only JSON or query.
const (
	ProtocolDefault Protocol = "default"
	ProtocolJSON    Protocol = "json"
	ProtocolQuery   Protocol = "query"
)

// ClientOptions configure NewClient.
type ClientOptions struct {
	// Region overrides the default chain's region (AWS_REGION, shared
	// config).
	Region string
	// Endpoint overrides the endpoint ("https://monitoring.us-east-1.amazonaws.com",
	// a VPC endpoint, or a test server).
	Endpoint string
	// Protocol: "" or default, json, query.
	Protocol Protocol
}

// Validate reports the first problem.
func (o ClientOptions) Validate() error {
	switch o.Protocol {
	case "", ProtocolDefault, ProtocolJSON, ProtocolQuery:
		return nil
	}
	return fmt.Errorf("protocol %q: want default, json or query", o.Protocol)
}

// ProtocolOption sets a client's protocol.
func ProtocolOption(p Protocol) func(*cloudwatch.Options) {
	return func(o *cloudwatch.Options) {
		switch p {
		case ProtocolJSON:
			o.Protocol = awsjson.New10(cwschemas.GraniteServiceVersion20100801)
		case ProtocolQuery:
			o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
		}
	}
}

// NewClient returns a CloudWatch client with credentials from the default
// chain (environment, shared config and credentials files, web identity,
// ECS, IMDS). It makes no request.
func NewClient(ctx context.Context, co ClientOptions, optFns ...func(*cloudwatch.Options)) (*cloudwatch.Client, error) {
	if err := co.Validate(); err != nil {
		return nil, err
	}
	var load []func(*config.LoadOptions) error
	if co.Region != "" {
		load = append(load, config.WithRegion(co.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set cloudwatch.region or AWS_REGION")
	}
	fns := []func(*cloudwatch.Options){ProtocolOption(co.Protocol)}
	if co.Endpoint != "" {
		fns = append(fns, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(co.Endpoint) })
	}
	return cloudwatch.NewFromConfig(cfg, append(fns, optFns...)...), nil
}
