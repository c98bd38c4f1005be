package kafkasec

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// FranzOpts validates c, reads the files it names and returns the same TLS
// and SASL settings as Apply, for a franz-go (kgo) client: the HA
// replicas' coordination client (package ha) uses franz-go for its
// cooperative-sticky consumer group. It connects nowhere. With the zero
// Config it returns no option.
func (c Config) FranzOpts() ([]kgo.Opt, error) {
	if err := c.Validate(""); err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	if c.tlsEnabled() {
		tc, err := c.TLS.build()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	s := c.SASL
	switch s.Mechanism {
	case MechanismNone:
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		pw, err := s.password()
		if err != nil {
			return nil, err
		}
		switch s.Mechanism {
		case MechanismPlain:
			opts = append(opts, kgo.SASL(plain.Auth{User: s.Username, Pass: pw}.AsMechanism()))
		case MechanismSCRAMSHA256:
			opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: pw}.AsSha256Mechanism()))
		default:
			opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: pw}.AsSha512Mechanism()))
		}
	case MechanismAWSMSKIAM:
		tp, err := newMSKTokenProvider(s.AWSRegion, s.AWSRoleARN)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			t, err := tp.Token()
			if err != nil {
				return oauth.Auth{}, err
			}
			return oauth.Auth{Token: t.Token}, nil
		})))
	}
	return opts, nil
}
