// Package providers is the registry of every provider's spec, in a stable
// order. The forwarder links it (it maps every provider's webhooks); an
// ingest function links only its own provider's package.
package providers

import (
	"errors"
	"fmt"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/custom"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/hmac"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/loyaltynow"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/shopify"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/square"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/stripe"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/woocommerce"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/zupy"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// All is every provider's spec. Adding a provider is adding its package
// and its line here; TestSpecs and the template's tests say what else is
// missing.
var All = []*spec.Spec{
	&shopify.Spec, &stripe.Spec, &zupy.Spec, &loyaltynow.Spec, &custom.Spec,
	&woocommerce.Spec, &square.Spec, &hmac.Spec,
}

// Names returns the providers' names in All's order.
func Names() []string {
	out := make([]string, len(All))
	for i, s := range All {
		out[i] = s.Name
	}
	return out
}

// ByName returns the spec of the provider called name.
func ByName(name string) (*spec.Spec, bool) {
	for _, s := range All {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// Defaults is every provider's mapping out of the box, for mapping.Load.
func Defaults() map[string]mapping.Config { return spec.Defaults(All...) }

// LoadMapping is every provider's mapping: the defaults with the
// deployment's MAPPING overrides applied.
func LoadMapping(overrides string) (map[string]*mapping.Config, error) {
	return mapping.Load(Defaults(), overrides)
}

// Mappers builds every provider's mapper from the forwarder's environment.
// A provider whose settings are wrong (an invalid HmacSources) gets a
// mapper that parks its webhooks as ReasonMisconfigured, and its error is
// returned, so that one provider's mistake stops its rewards, not every
// provider's.
func Mappers(getenv spec.Getenv) (map[string]mapping.Mapper, error) {
	out := make(map[string]mapping.Mapper, len(All))
	var errs []error
	for _, s := range All {
		m, err := s.Mapper(getenv)
		if err != nil {
			err = fmt.Errorf("%s: %w", s.Name, err)
			errs = append(errs, err)
			m = misconfigured{err}
		}
		out[s.Name] = m
	}
	return out, errors.Join(errs...)
}

// ReasonMisconfigured parks a webhook whose provider's settings the
// forwarder could not read: fix them, then replay it.
const ReasonMisconfigured = "provider_misconfigured"

type misconfigured struct{ err error }

func (m misconfigured) Map(*envelope.Envelope, *mapping.Config) (mapping.Result, error) {
	return mapping.Result{}, &mapping.ParkError{Reason: ReasonMisconfigured, Detail: m.err.Error()}
}
