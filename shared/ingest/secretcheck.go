package ingest

import (
	"fmt"
	"log/slog"
	"sort"

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
//
// Only name's own entry is kept. Each provider has its own secret, which
// only its function may read; a document that also holds other providers'
// entries (the whole set pasted into one provider's secret) is logged as a
// warning naming them, so that the one function that can read it does not
// quietly hold every provider's signing secret.
func CheckedSecrets(name string, p webhook.Provider, log *slog.Logger) func(string) (secrets.WebhookSecrets, error) {
	checker, _ := p.(webhook.SecretChecker)
	return func(doc string) (secrets.WebhookSecrets, error) {
		all, err := secrets.ParseWebhookSecrets(doc)
		if err != nil {
			return nil, err
		}
		if _, ok := p.(webhook.Sourced); ok { // keyed by source, each its own
			if err := distinctSources(all); err != nil {
				if log != nil {
					log.Error("webhook secret misconfigured", "provider", name, "error", err.Error())
				}
				return nil, err
			}
			return all, nil
		}
		if others := otherEntries(all, name); len(others) > 0 && log != nil {
			log.Warn("webhook secret holds other providers' entries; each belongs in its own provider's secret",
				"provider", name, "others", others)
		}
		own := all[name]
		if checker != nil {
			for i, s := range own {
				if err := checker.CheckSecret(s); err != nil {
					err = fmt.Errorf("%w: %s secret %d of %d: %w", secrets.ErrFormat, name, i+1, len(own), err)
					if log != nil {
						log.Error("webhook secret misconfigured", "provider", name, "error", err.Error())
					}
					return nil, err
				}
			}
		}
		return secrets.WebhookSecrets{name: own}, nil
	}
}

// otherEntries names the non-empty entries of all other than name's.
// distinctSources refuses a secret held by two sources: the {source} path
// parameter is not signed, so a delivery signed for one would verify at the
// other's path (re-encoded for its header) and be paid again under the
// other's reward key.
func distinctSources(all secrets.WebhookSecrets) error {
	owner := map[string]string{}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, k := range all[name] {
			if other, ok := owner[string(k)]; ok && other != name {
				return fmt.Errorf("%w: sources %s and %s share a secret: a delivery signed for one would be accepted at the other's URL and paid again; give each source its own", secrets.ErrFormat, other, name)
			}
			owner[string(k)] = name
		}
	}
	return nil
}

func otherEntries(all secrets.WebhookSecrets, name string) []string {
	var out []string
	for k, v := range all {
		if k != name && len(v) > 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
