package kafkasec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-msk-iam-sasl-signer-go/signer"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// MSK IAM token timing.
const (
	// tokenRefreshBefore: a cached token is replaced this long before it
	// expires (the signer's tokens live 15 minutes).
	tokenRefreshBefore = 2 * time.Minute
	// tokenTimeout bounds fetching credentials and signing one token
	// (an STS AssumeRole call when a role is set).
	tokenTimeout = 15 * time.Second
	// RoleSessionName is the STS session name of an assumed role; it shows
	// in CloudTrail.
	RoleSessionName = "offsetlag"
)

// mskTokenProvider is a sarama.AccessTokenProvider for MSK IAM: a
// base64url SigV4-presigned kafka-cluster:Connect URL, reused until shortly
// before it expires.
type mskTokenProvider struct {
	region string
	creds  aws.CredentialsProvider
	now    func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ sarama.AccessTokenProvider = (*mskTokenProvider)(nil)

// newMSKTokenProvider loads the AWS default chain (environment, shared
// files, web identity, ECS and EC2 roles) and, with roleARN, assumes that
// role. It makes no network call; credentials are fetched by Token.
func newMSKTokenProvider(region, roleARN string) (*mskTokenProvider, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	ctx, cancel := context.WithTimeout(context.Background(), tokenTimeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("AWS_MSK_IAM needs a region: sasl.aws-region or AWS_REGION")
	}
	creds := cfg.Credentials
	if roleARN != "" {
		creds = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = RoleSessionName }))
	}
	return newTokenProvider(cfg.Region, creds), nil
}

func newTokenProvider(region string, creds aws.CredentialsProvider) *mskTokenProvider {
	return &mskTokenProvider{region: region, creds: creds, now: time.Now}
}

// Token returns the cached token, or signs a new one.
func (p *mskTokenProvider) Token() (*sarama.AccessToken, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" && p.now().Before(p.expires.Add(-tokenRefreshBefore)) {
		return &sarama.AccessToken{Token: p.token}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tokenTimeout)
	defer cancel()
	tok, expMs, err := signer.GenerateAuthTokenFromCredentialsProvider(ctx, p.region, p.creds)
	if err != nil {
		return nil, fmt.Errorf("msk iam token: %w", err)
	}
	p.token, p.expires = tok, time.UnixMilli(expMs)
	return &sarama.AccessToken{Token: tok}, nil
}
