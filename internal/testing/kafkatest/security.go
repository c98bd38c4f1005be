package kafkatest

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/offsetlag/offsetlag/internal/testing/testpki"
)

// SCRAM mechanisms of the SASL_PLAINTEXT listener.
var scramMechanisms = []string{"SCRAM-SHA-256", "SCRAM-SHA-512"}

// TLSOptions add an SSL listener (Broker.TLSAddr) whose certificate, for
// 127.0.0.1 and localhost, is signed by a CA the rig generates in the
// broker's directory (Broker.PKI: CA, server and client certificates as
// PEM files). The broker reads them through Kafka's PEM key and trust
// stores (ssl.keystore.type=PEM).
type TLSOptions struct {
	// ClientAuth is ssl.client.auth of the listener: "none" (default),
	// "requested" or "required" (mutual TLS: Broker.PKI.ClientCert).
	ClientAuth string
}

// securityPorts is how many listener ports the options add.
func (o Options) securityPorts() int {
	n := 0
	if len(o.SASLUsers) > 0 {
		n++
	}
	if o.TLS != nil {
		n++
	}
	return n
}

// securityKey is the options' part of a shared broker's key.
func (o Options) securityKey() string {
	var parts []string
	for u, p := range o.SASLUsers {
		parts = append(parts, "sasl:"+u+"="+p)
	}
	sort.Strings(parts)
	if o.TLS != nil {
		parts = append(parts, "tls:"+o.TLS.ClientAuth)
	}
	return strings.Join(parts, ",")
}

// setSecurityAddrs assigns the extra listener ports (after PLAINTEXT and
// CONTROLLER) and generates the PKI.
func (b *Broker) setSecurityAddrs(ports []int) error {
	b.SASLAddr, b.TLSAddr = "", ""
	if len(b.opts.SASLUsers) > 0 {
		b.SASLAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		ports = ports[1:]
	}
	if b.opts.TLS != nil {
		b.TLSAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		if b.PKI == nil {
			p, err := testpki.Generate(b.Dir, "127.0.0.1", "localhost")
			if err != nil {
				return fmt.Errorf("generate certificates: %w", err)
			}
			b.PKI = p
		}
		if err := os.WriteFile(b.PKI.KeyFile+".keystore", b.keystorePEM(), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// securityProps returns the listeners and their properties: props gets
// the SASL_PLAINTEXT and SSL listeners appended. The inter-broker and
// controller listeners stay PLAINTEXT.
func (b *Broker) securityProps(props map[string]string) {
	var listeners, protoMap []string
	if b.SASLAddr != "" {
		listeners = append(listeners, "SASL_PLAINTEXT://"+b.SASLAddr)
		protoMap = append(protoMap, "SASL_PLAINTEXT:SASL_PLAINTEXT")
		props["sasl.enabled.mechanisms"] = strings.Join(append([]string{"PLAIN"}, scramMechanisms...), ",")
		for _, m := range scramMechanisms {
			props["listener.name.sasl_plaintext."+strings.ToLower(m)+".sasl.jaas.config"] =
				"org.apache.kafka.common.security.scram.ScramLoginModule required;"
		}
		// PLAIN users live in the JAAS line itself.
		var users []string
		for _, u := range slices.Sorted(maps.Keys(b.opts.SASLUsers)) {
			users = append(users, fmt.Sprintf("user_%s=%q", u, b.opts.SASLUsers[u]))
		}
		props["listener.name.sasl_plaintext.plain.sasl.jaas.config"] =
			"org.apache.kafka.common.security.plain.PlainLoginModule required " + strings.Join(users, " ") + ";"
	}
	if b.TLSAddr != "" {
		listeners = append(listeners, "SSL://"+b.TLSAddr)
		protoMap = append(protoMap, "SSL:SSL")
		auth := b.opts.TLS.ClientAuth
		if auth == "" {
			auth = "none"
		}
		// Kafka 2.7+ reads PEM key and trust stores from files; the key is
		// unencrypted PKCS#8, so no ssl.key.password.
		for k, v := range map[string]string{
			"ssl.keystore.type":                     "PEM",
			"ssl.keystore.location":                 b.PKI.KeyFile + ".keystore",
			"ssl.truststore.type":                   "PEM",
			"ssl.truststore.location":               b.PKI.CAFile,
			"ssl.client.auth":                       auth,
			"ssl.endpoint.identification.algorithm": "",
		} {
			props["listener.name.ssl."+k] = v
		}
	}
	if len(listeners) == 0 {
		return
	}
	props["listeners"] += "," + strings.Join(listeners, ",")
	props["advertised.listeners"] += "," + strings.Join(listeners, ",")
	props["listener.security.protocol.map"] += "," + strings.Join(protoMap, ",")
}

// keystorePEM is the broker's PEM key store: the key, then the chain.
func (b *Broker) keystorePEM() []byte {
	return append(append([]byte{}, b.PKI.KeyPEM...), b.PKI.CertPEM...)
}

// scramFormatArgs are the `format --add-scram` arguments creating the SCRAM
// users (both SHA-256 and SHA-512).
func (b *Broker) scramFormatArgs() []string {
	var args []string
	for _, u := range slices.Sorted(maps.Keys(b.opts.SASLUsers)) {
		for _, m := range scramMechanisms {
			args = append(args, "--add-scram", fmt.Sprintf("%s=[name=%s,password=%s]", m, u, b.opts.SASLUsers[u]))
		}
	}
	return args
}
