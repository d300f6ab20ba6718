package hmac

import (
	"errors"
	"fmt"
	"maps"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// EnvSources is the variable of the ingest function and the forwarder that
// holds the sources document (the HmacSources parameter).
const EnvSources = "HMAC_SOURCES"

var _ webhook.Sourced = Provider{}

// SourceNames implements webhook.Sourced.
func (p Provider) SourceNames() []string { return p.Sources.Names() }

// EventTypes implements webhook.Sourced: the event types source maps.
func (p Provider) EventTypes(source string) []string { return p.Sources.EventTypes(source) }

// FromEnv reads the sources document from the environment.
func FromEnv(getenv spec.Getenv) (Sources, error) {
	s, err := ParseSources(getenv.Get(EnvSources))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvSources, err)
	}
	return s, nil
}

// errOverrides refuses MAPPING entries for the generic source: its
// mapping is each source's, in HmacSources.
var errOverrides = errors.New("hmac: map a generic source's events in HmacSources (its own mapping), not in MappingOverrides")

// Spec is everything the relay knows about the generic HMAC source: one
// function at /webhooks/hmac/{source}, each source configured as JSON in
// HmacSources (scheme and mapping) with its own secrets in
// HmacWebhookSecrets ({"<source>":"newest,older"}).
var Spec = spec.Spec{
	Name: Name, Title: "Generic HMAC source", Route: "/webhooks/hmac/{source}",
	FunctionID: "HmacWebhookFunction", SecretID: "HmacWebhookSecret", Package: "hmac",
	Sourced: true,
	Verifier: func(getenv spec.Getenv) (webhook.Provider, error) {
		s, err := FromEnv(getenv)
		return Provider{Sources: s}, err
	},
	Mapper: func(getenv spec.Getenv) (mapping.Mapper, error) {
		s, err := FromEnv(getenv)
		return Mapper{Sources: s}, err
	},
	Mapping: mapping.Config{Check: func(c *mapping.Config) error {
		if len(c.Events) > 0 || len(c.Fields) > 0 || c.Currency != "" || c.IncludeTest || c.SyntheticEmail {
			return errOverrides
		}
		return nil
	}},
	Sign: func(d spec.Delivery, secrets ...string) (map[string]string, error) {
		if err := spec.NeedSecret(Name, secrets); err != nil {
			return nil, err
		}
		s, err := FromEnv(d.Env)
		if err != nil {
			return nil, err
		}
		src, ok := s[d.Source]
		if !ok {
			return nil, fmt.Errorf("hmac: no source %q in %s", d.Source, EnvSources)
		}
		signed, err := Sign(src, secrets[0], SignInput{Body: d.Body, Timestamp: d.At, URL: d.URL})
		if err != nil {
			return nil, err
		}
		return spec.Headers(d, func(h map[string]string) { maps.Copy(h, signed) }), nil
	},
	Benchmark: "order-paid.json",
}
