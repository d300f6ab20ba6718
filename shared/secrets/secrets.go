// Package secrets reads the webhook signing secrets (and, for the forwarder,
// the Resonance credentials) from AWS Secrets Manager and caches them in the
// Lambda container, re-reading them periodically so that a rotation needs no
// redeploy.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DefaultTTL is how long a secret is used before it is read again.
const DefaultTTL = 5 * time.Minute

// retryAfterFailure is how soon a failed refresh is tried again while a
// stale value keeps serving.
const retryAfterFailure = 10 * time.Second

// Fetcher returns the current SecretString of a secret.
type Fetcher interface {
	GetSecretString(ctx context.Context, id string) (string, error)
}

// FetcherFunc adapts a function to Fetcher.
type FetcherFunc func(ctx context.Context, id string) (string, error)

// GetSecretString calls f.
func (f FetcherFunc) GetSecretString(ctx context.Context, id string) (string, error) {
	return f(ctx, id)
}

// Cache holds one secret's parsed value for TTL. When a refresh fails, the
// last good value keeps serving (Secrets Manager being briefly unreachable
// must not turn genuine webhooks away); with no value at all, the error is
// returned and the caller answers 503 so the sender retries.
type Cache[T any] struct {
	Fetcher Fetcher
	ID      string
	TTL     time.Duration
	Parse   func(string) (T, error)
	Now     func() time.Time

	mu      sync.Mutex
	value   T
	have    bool
	expires time.Time
}

// Get returns the cached value, reading the secret when it is due.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now()
	if c.have && t.Before(c.expires) {
		return c.value, nil
	}
	s, err := c.Fetcher.GetSecretString(ctx, c.ID)
	var v T
	if err == nil {
		v, err = c.Parse(s)
	}
	if err != nil {
		if c.have {
			c.expires = t.Add(retryAfterFailure)
			return c.value, nil
		}
		var zero T
		return zero, fmt.Errorf("secrets: read %s: %w", c.ID, err)
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	c.value, c.have, c.expires = v, true, t.Add(ttl)
	return v, nil
}

// WebhookSecrets maps a provider name to its active signing secrets, newest
// first.
type WebhookSecrets map[string][][]byte

// ErrFormat is returned for a secret that is not the expected JSON.
var ErrFormat = errors.New("secrets: unexpected format")

// ParseWebhookSecrets reads the webhook secret document: a JSON object from
// provider name to either a list of secrets or one string of comma-separated
// secrets (what the template builds from its parameters). Blanks are dropped.
func ParseWebhookSecrets(s string) (WebhookSecrets, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrFormat)
	}
	out := make(WebhookSecrets, len(raw))
	for name, v := range raw {
		var list []string
		var one string
		switch {
		case json.Unmarshal(v, &list) == nil:
		case json.Unmarshal(v, &one) == nil:
			list = strings.Split(one, ",")
		default:
			return nil, fmt.Errorf("%w: %q is neither a string nor a list of strings", ErrFormat, name)
		}
		var keys [][]byte
		for _, k := range list {
			if k = strings.TrimSpace(k); k != "" {
				keys = append(keys, []byte(k))
			}
		}
		lower := strings.ToLower(name)
		if _, twice := out[lower]; twice {
			return nil, fmt.Errorf("%w: two entries for %q (names are not case-sensitive)", ErrFormat, lower)
		}
		out[lower] = keys
	}
	return out, nil
}
