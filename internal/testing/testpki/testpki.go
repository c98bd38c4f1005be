// Package testpki makes a throwaway certificate authority for tests: a CA,
// a server certificate for the given hosts and a client certificate, as PEM
// files (keys in unencrypted PKCS#8, which Kafka's PEM key store reads). It
// is a test rig only: no product code imports it.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// PKI is a generated CA with one server and one client certificate.
type PKI struct {
	Dir        string // where the files are
	CAFile     string // ca.pem: the CA certificate
	CertFile   string // server.pem: server certificate
	KeyFile    string // server-key.pem: its key (PKCS#8)
	ClientCert string // client.pem: client certificate (CN=client)
	ClientKey  string // client-key.pem: its key (PKCS#8)
	// OtherCAFile is a second, unrelated CA: trusting it must fail.
	OtherCAFile string

	// PEM contents of the files above.
	CAPEM, CertPEM, KeyPEM, ClientCertPEM, ClientKeyPEM []byte
}

// Generate writes a fresh PKI into dir. hosts are the server certificate's
// names: IP addresses become IP SANs, the rest DNS SANs.
func Generate(dir string, hosts ...string) (*PKI, error) {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "localhost"}
	}
	caKey, caCert, caPEM, err := newCA("offsetlag test CA")
	if err != nil {
		return nil, err
	}
	_, _, otherPEM, err := newCA("unrelated test CA")
	if err != nil {
		return nil, err
	}
	serverCert, serverKey, err := leaf(caCert, caKey, "server", hosts, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	clientCert, clientKey, err := leaf(caCert, caKey, "client", nil, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	p := &PKI{
		Dir: dir, CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "server.pem"),
		KeyFile: filepath.Join(dir, "server-key.pem"), ClientCert: filepath.Join(dir, "client.pem"),
		ClientKey: filepath.Join(dir, "client-key.pem"), OtherCAFile: filepath.Join(dir, "other-ca.pem"),
		CAPEM: caPEM, CertPEM: serverCert, KeyPEM: serverKey, ClientCertPEM: clientCert, ClientKeyPEM: clientKey,
	}
	for path, data := range map[string][]byte{p.CAFile: caPEM, p.CertFile: serverCert, p.KeyFile: serverKey,
		p.ClientCert: clientCert, p.ClientKey: clientKey, p.OtherCAFile: otherPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ClientTLS returns a client tls.Config that trusts the CA and presents the
// client certificate.
func (p *PKI) ClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CAPEM)
	cert, err := tls.X509KeyPair(p.ClientCertPEM, p.ClientKeyPEM)
	if err != nil {
		panic(err) // generated above: cannot happen
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

func newCA(cn string) (*ecdsa.PrivateKey, *x509.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"offsetlag tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	return key, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func leaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, hosts []string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"offsetlag tests"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(fmt.Sprintf("testpki: serial: %v", err))
	}
	return n
}
