package webhook

// SecretChecker is implemented by a provider whose secrets have a format
// (Standard Webhooks: base64 after "whsec_"). Ingest checks each of the
// provider's secrets when it loads them, so that a malformed secret fails
// the load with a configuration error in the log, instead of failing every
// delivery at request time as a signature mismatch.
type SecretChecker interface {
	// CheckSecret returns an error that says what is wrong with secret,
	// without quoting it.
	CheckSecret(secret []byte) error
}
