package ingest

import (
	"fmt"
	"log/slog"

	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// CheckedSecrets returns the secret cache's Parse for provider name: the
// secret document read by secrets.ParseWebhookSecrets, then each of name's
// secrets checked by the provider when it can check them
// (webhook.SecretChecker). A malformed secret fails the load and is logged
// as a configuration error (which secret, never its value): the cache keeps
// serving the secrets it had, or, with none yet, the function answers 503
// and senders retry until the secret is fixed.
func CheckedSecrets(name string, p webhook.Provider, log *slog.Logger) func(string) (secrets.WebhookSecrets, error) {
	checker, _ := p.(webhook.SecretChecker)
	return func(doc string) (secrets.WebhookSecrets, error) {
		all, err := secrets.ParseWebhookSecrets(doc)
		if err != nil || checker == nil {
			return all, err
		}
		for i, s := range all[name] {
			if err := checker.CheckSecret(s); err != nil {
				err = fmt.Errorf("%w: %s secret %d of %d: %w", secrets.ErrFormat, name, i+1, len(all[name]), err)
				if log != nil {
					log.Error("webhook secret misconfigured", "provider", name, "error", err.Error())
				}
				return nil, err
			}
		}
		return all, nil
	}
}
