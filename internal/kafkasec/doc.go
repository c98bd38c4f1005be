// Package kafkasec turns the Kafka security options shared by
// offsetlag-exporter and factor-worker into a sarama configuration: TLS
// (a CA file, a client certificate, the server name; skip-verify only when
// asked for explicitly) and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and
// AWS MSK IAM, which is OAUTHBEARER with a SigV4-signed token from
// aws-msk-iam-sasl-signer-go).
//
// Config is plain data, filled from flags, the environment or a file by the
// caller; Validate checks it without touching the file system or the
// network; Apply reads the files it names (CA, certificate, key, password)
// and sets up a *sarama.Config. Apply makes no connection: the handshake
// happens when sarama dials, so a wrong password surfaces as a failed
// request, not as a failed start.
//
// Secrets never reach a log: Secret prints as "<redacted>" through fmt,
// slog and encoding/json, and Config.String summarises the settings
// without them.
package kafkasec
