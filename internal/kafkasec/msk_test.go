package kafkasec

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

const (
	testAccessKey = "AKIDEXAMPLE"
	testSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// checkToken decodes an MSK IAM token and checks it is what the MSK
// brokers verify: a base64url (unpadded) SigV4-presigned GET of
// https://kafka.REGION.amazonaws.com/?Action=kafka-cluster:Connect, signed
// for service kafka-cluster with the given access key, valid 900 s, and a
// signature that matches one computed here from the same credentials and
// the token's own X-Amz-Date. (The signer reads the wall clock, so the
// date is taken from the token rather than injected.) It returns the
// decoded URL's query.
func checkToken(t *testing.T, token, accessKey, region string) url.Values {
	t.Helper()
	if strings.ContainsAny(token, "+/=") {
		t.Fatalf("token %q is not unpadded base64url", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token is not base64url: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatalf("token is not a URL: %v", err)
	}
	q := u.Query()
	if u.Scheme != "https" || u.Host != "kafka."+region+".amazonaws.com" || u.Path != "/" {
		t.Errorf("URL %s://%s%s, want https://kafka.%s.amazonaws.com/", u.Scheme, u.Host, u.Path, region)
	}
	date, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date %q: %v", q.Get("X-Amz-Date"), err)
	}
	if d := time.Since(date); d < -time.Minute || d > time.Minute {
		t.Errorf("X-Amz-Date %s is not now", date)
	}
	want := map[string]string{
		"Action":              "kafka-cluster:Connect",
		"X-Amz-Algorithm":     "AWS4-HMAC-SHA256",
		"X-Amz-Credential":    accessKey + "/" + date.Format("20060102") + "/" + region + "/kafka-cluster/aws4_request",
		"X-Amz-Expires":       "900",
		"X-Amz-SignedHeaders": "host",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if ua := q.Get("User-Agent"); !strings.HasPrefix(ua, "aws-msk-iam-sasl-signer-go/") {
		t.Errorf("User-Agent %q", ua)
	}

	// Sign the same request again at the token's date: the signatures match.
	unsigned := url.Values{"Action": {"kafka-cluster:Connect"}, "X-Amz-Expires": {"900"}}
	req, err := http.NewRequest(http.MethodGet, "https://kafka."+region+".amazonaws.com/?"+unsigned.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: testSecretKey, SessionToken: q.Get("X-Amz-Security-Token")}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // SHA-256 of ""
		"kafka-cluster", region, date)
	if err != nil {
		t.Fatal(err)
	}
	su, _ := url.Parse(signed)
	if got, want := q.Get("X-Amz-Signature"), su.Query().Get("X-Amz-Signature"); got == "" || got != want {
		t.Errorf("X-Amz-Signature %q, recomputed %q", got, want)
	}
	return q
}

func TestMSKToken(t *testing.T) {
	t.Run("static credentials", func(t *testing.T) {
		p := newTokenProvider("us-east-1", credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""))
		tok, err := p.Token()
		if err != nil {
			t.Fatal(err)
		}
		q := checkToken(t, tok.Token, testAccessKey, "us-east-1")
		if q.Has("X-Amz-Security-Token") {
			t.Error("security token without a session")
		}
	})
	t.Run("session credentials", func(t *testing.T) {
		p := newTokenProvider("eu-central-1", credentials.NewStaticCredentialsProvider("ASIAEXAMPLE", testSecretKey, "session-token"))
		tok, err := p.Token()
		if err != nil {
			t.Fatal(err)
		}
		q := checkToken(t, tok.Token, "ASIAEXAMPLE", "eu-central-1")
		if q.Get("X-Amz-Security-Token") != "session-token" {
			t.Errorf("X-Amz-Security-Token %q", q.Get("X-Amz-Security-Token"))
		}
	})
	t.Run("reused until shortly before expiry", func(t *testing.T) {
		p := newTokenProvider("us-east-1", credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""))
		now := time.Now()
		p.now = func() time.Time { return now }
		first, err := p.Token()
		if err != nil {
			t.Fatal(err)
		}
		if exp := p.expires.Sub(now); exp < 14*time.Minute || exp > 16*time.Minute {
			t.Fatalf("token expires in %s, want 15m", exp)
		}
		now = now.Add(12 * time.Minute)
		again, _ := p.Token()
		if again.Token != first.Token {
			t.Error("a 12-minute-old token was not reused")
		}
		now = now.Add(2 * time.Minute) // 1 minute before expiry
		time.Sleep(1100 * time.Millisecond)
		renewed, err := p.Token()
		if err != nil {
			t.Fatal(err)
		}
		if renewed.Token == first.Token {
			t.Error("a token 1 minute before expiry was reused")
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		p := newTokenProvider("us-east-1", credentials.NewStaticCredentialsProvider("", "", ""))
		if _, err := p.Token(); err == nil || !strings.Contains(err.Error(), "msk iam token") {
			t.Fatalf("Token = %v", err)
		}
	})
}
