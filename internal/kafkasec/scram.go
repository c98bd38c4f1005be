package kafkasec

import (
	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

// scramClient adapts github.com/xdg-go/scram to sarama.SCRAMClient.
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

var _ sarama.SCRAMClient = (*scramClient)(nil)

func scramGenerator(m Mechanism) func() sarama.SCRAMClient {
	hash := scram.SHA256
	if m == MechanismSCRAMSHA512 {
		hash = scram.SHA512
	}
	return func() sarama.SCRAMClient { return &scramClient{hash: hash} }
}

// Begin starts a conversation (SASLprep applied to the credentials).
func (c *scramClient) Begin(user, password, authzID string) error {
	cl, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	c.conv = cl.NewConversation()
	return nil
}

// Step answers the server's challenge; the last step verifies the server.
func (c *scramClient) Step(challenge string) (string, error) { return c.conv.Step(challenge) }

// Done reports the end of the conversation.
func (c *scramClient) Done() bool { return c.conv.Done() }
