package appconfig

import (
	"fmt"

	"github.com/offsetlag/offsetlag/internal/kafkasec"
	"github.com/offsetlag/offsetlag/internal/settings"
)

// Security returns the cluster's Kafka security settings.
func (cl ClusterConfig) Security() kafkasec.Config {
	return kafkasec.Config{TLS: cl.TLS, SASL: cl.SASL}
}

// validateSecurity checks kafka.tls/sasl and each listed cluster's
// blocks (its own or inherited), naming the option in the message.
func (c *Config) validateSecurity() error {
	if err := (kafkasec.Config{TLS: c.Kafka.TLS, SASL: c.Kafka.SASL}).Validate("kafka."); err != nil {
		return err
	}
	for i, cl := range c.Clusters {
		settings.Inherit(&cl.ClusterSettings, c.Kafka.ClusterSettings)
		if err := cl.Security().Validate(fmt.Sprintf("clusters[%d].", i)); err != nil {
			return fmt.Errorf("cluster %q: %w", cl.Name, err)
		}
	}
	return nil
}
