// Package spec describes a provider in one value: its name and route, its
// function and secret in template.yaml, how its webhooks are verified,
// read, signed (for tests and samples) and mapped, and which of its event
// types earn which Resonance event out of the box. Each provider package
// exports one Spec; every list the relay keeps (the forwarder's mappers, the
// mapping defaults, the ingest filter's defaults, the local stack, the
// tools, the Makefile's and the template's checks) is derived from the
// specs or checked against them by a test.
//
// A Spec is what its ingest Lambda links: the registry of all of them
// (shared/providers) is linked only by the forwarder, which maps every
// provider's webhooks.
package spec

import (
	"fmt"
	"maps"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Getenv reads a setting of the function's environment (os.Getenv). A nil
// Getenv reads nothing.
type Getenv func(string) string

// Get returns the setting name, or "" when g is nil.
func (g Getenv) Get(name string) string {
	if g == nil {
		return ""
	}
	return g(name)
}

// Spec is everything the relay knows about one provider.
type Spec struct {
	// Name is the provider's name: the last element of its route, the
	// envelope's provider, its key in MAPPING and in its secret document,
	// the metrics' provider dimension.
	Name string
	// Title is how the provider calls itself, for logs and documents.
	Title string
	// Route is the HTTP API route its function serves; "" is
	// /webhooks/<Name>.
	Route string
	// FunctionID and SecretID are the logical ids in template.yaml of its
	// ingest function and of its webhook secret; Package is the folder
	// under functions/ that builds the function.
	FunctionID, SecretID, Package string
	// SignatureHeader is the header that carries the signature (lowercase).
	SignatureHeader string
	// Verifier builds the verifier from the ingest function's environment.
	Verifier func(Getenv) (webhook.Provider, error)
	// Mapper builds the mapper from the forwarder's environment.
	Mapper func(Getenv) (mapping.Mapper, error)
	// Mapping is the mapping configuration out of the box: which event
	// types earn which Resonance event, and the provider's settings. Its
	// Check, when set, refuses a configuration that would pay twice.
	Mapping mapping.Config
	// Sourced: one function serves several senders configured by the
	// deployment (Route has a {source} segment, the verifier is a
	// webhook.Sourced): each source has its own scheme, secrets, event types
	// and mapping, read from the environment by Verifier and Mapper, and
	// its deliveries are queued as "<Name>:<source>". Mapping is then
	// empty, and SignatureHeader and Minimal belong to each source.
	Sourced bool
	// AllEventTypes: ingest enqueues every event type by default (a custom
	// sender names the Resonance event itself); otherwise it enqueues the
	// event types the mapping maps (ingest.DefaultFilter).
	AllEventTypes bool
	// SignedURL: the sender signs the URL it posts to, so the function is
	// given the URL as registered (SIGNED_URL) when it differs from the
	// request's own (a custom domain).
	SignedURL bool
	// Sign returns the headers with which the provider would send d, signed
	// with secrets (one, or several where the scheme carries several), for
	// tests, the sample events and the local stack.
	Sign func(d Delivery, secrets ...string) (map[string]string, error)
	// Minimal is the smallest delivery its Parse accepts (a test's).
	Minimal Delivery
	// Benchmark names the sample under events/<FunctionID>/ that the
	// benchmarks send.
	Benchmark string
	// BodyTimes: the signature covers no timestamp, so the forwarder dates
	// a delivery by the business times in its body; a sample replayed
	// later has them moved (samples.Freshen).
	BodyTimes bool
}

// Delivery is a test delivery to sign.
type Delivery struct {
	Body []byte
	URL  string    // the URL the sender signs, where it signs one
	At   time.Time // when it is signed
	// Headers are the provider's unsigned headers (topic, event id...);
	// Sign returns them with the signature's.
	Headers map[string]string
	// Source and Env are, for a Sourced provider, the source that sends d
	// and the configuration that describes it (the function's environment).
	Source string
	Env    Getenv
}

// Path is the route's path: /webhooks/<Name> unless Route says otherwise.
func (s *Spec) Path() string {
	if s.Route != "" {
		return s.Route
	}
	return "/webhooks/" + s.Name
}

// Static is a Mapper builder for a mapper without settings.
func Static(m mapping.Mapper) func(Getenv) (mapping.Mapper, error) {
	return func(Getenv) (mapping.Mapper, error) { return m, nil }
}

// Fixed is a Verifier builder for a verifier without settings.
func Fixed(p webhook.Provider) func(Getenv) (webhook.Provider, error) {
	return func(Getenv) (webhook.Provider, error) { return p, nil }
}

// Headers returns d's headers with the signature's set by set, for Sign
// functions.
func Headers(d Delivery, set func(h map[string]string)) map[string]string {
	h := make(map[string]string, len(d.Headers)+3)
	maps.Copy(h, d.Headers)
	set(h)
	return h
}

// OneHeader is a Sign for a scheme that sends one signature header, whose
// value mac computes from the delivery and the secrets (most use the first).
func OneHeader(name, header string, mac func(d Delivery, secrets []string) string) func(Delivery, ...string) (map[string]string, error) {
	return func(d Delivery, secrets ...string) (map[string]string, error) {
		if err := NeedSecret(name, secrets); err != nil {
			return nil, err
		}
		return Headers(d, func(h map[string]string) { h[header] = mac(d, secrets) }), nil
	}
}

// NeedSecret is Sign's error when no secret is given.
func NeedSecret(name string, secrets []string) error {
	if len(secrets) == 0 || secrets[0] == "" {
		return fmt.Errorf("%s: no secret to sign with", name)
	}
	return nil
}

// Defaults returns the specs' mapping configurations by name, as
// mapping.Load takes them.
func Defaults(specs ...*Spec) map[string]mapping.Config {
	out := make(map[string]mapping.Config, len(specs))
	for _, s := range specs {
		out[s.Name] = s.Mapping
	}
	return out
}

// DefaultConfig returns a copy of s's mapping out of the box, as the
// forwarder loads it without overrides.
func (s *Spec) DefaultConfig() *mapping.Config {
	c, err := mapping.LoadOne(s.Name, s.Mapping, "")
	if err != nil {
		panic("spec: " + s.Name + "'s own defaults are refused: " + err.Error()) // TestSpecs catches it first
	}
	return c
}
