package appconfig

// ExpiryConfig configures committed-offset expiry prediction.
type ExpiryConfig struct{}

// expiryFlagDefs are the expiry.* options.
var expiryFlagDefs = []flagDef{}

// Validate reports the first problem.
func (e *ExpiryConfig) Validate() error { return nil }
