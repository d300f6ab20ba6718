// Package resonance is the client for Resonance's manual-event endpoint:
// POST <base>/resonance-api/manual-event with {brandId, eventType, userEmail,
// metadata}.
//
// Resonance's docs disagree on authentication (UNCONFIRMED): the integration
// guide uses "Authorization: Bearer <API key>", the API docs HMAC headers
// X-Resonance-Brand-Id, X-Resonance-Timestamp (Unix ms) and
// X-Resonance-Signature = hex HMAC-SHA256(secret, "<timestamp>:<brandId>:<body>").
// Both are supported, alone or together, by configuration.
package resonance

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Path is the manual-event endpoint under the base URL.
const Path = "/resonance-api/manual-event"

// DefaultBaseURL is Resonance's production API.
const DefaultBaseURL = "https://api.rsnc.network"

// Event types Resonance knows.
const (
	Purchase         = "purchase"
	Signup           = "signup"
	ReferralComplete = "referral_complete"
	CustomAction     = "custom_action"
)

// Event is the request body. Field order is the wire order; metadata keys
// are written sorted, so the same event always has the same bytes.
type Event struct {
	BrandID   string         `json:"brandId"`
	EventType string         `json:"eventType"`
	UserEmail string         `json:"userEmail"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// Body returns the event's JSON bytes (no HTML escaping, no newline).
func (e Event) Body() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Auth modes.
const (
	AuthBearer = "bearer"
	AuthHMAC   = "hmac"
	AuthBoth   = "both"
)

// Credentials are what the Resonance secret holds.
type Credentials struct {
	APIKey     string `json:"apiKey"`
	HMACSecret string `json:"hmacSecret"`
}

// ParseCredentials reads the Resonance secret's JSON.
func ParseCredentials(s string) (Credentials, error) {
	var c Credentials
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("resonance: credentials secret is not JSON {apiKey, hmacSecret}: %w", err)
	}
	return c, nil
}

// CredentialSource returns the current credentials.
type CredentialSource interface {
	Get(ctx context.Context) (Credentials, error)
}

// Client sends events to Resonance.
type Client struct {
	BaseURL     string
	BrandID     string
	Auth        string // bearer, hmac or both
	Credentials CredentialSource
	HTTP        *http.Client
	Now         func() time.Time
}

// Response is Resonance's answer.
type Response struct {
	Status     int
	Body       []byte // at most 4 KiB
	RetryAfter time.Duration
	// Success is the answer's "success" field; nil when the answer has
	// none or is not JSON.
	Success *bool           `json:"success"`
	Reward  json.RawMessage `json:"rewardAmount"`
	TxHash  string          `json:"txHash"`
}

// Paid reports whether the answer is a payment: a 2xx whose body says
// "success": true. A 2xx that says "success": false is a refusal (see
// Refused); any other 2xx (no body, not JSON, no success field) is neither.
func (r *Response) Paid() bool { return r.Status/100 == 2 && r.Success != nil && *r.Success }

// Refused reports a 2xx whose body says "success": false.
func (r *Response) Refused() bool { return r.Status/100 == 2 && r.Success != nil && !*r.Success }

// ErrConfig reports a client that cannot authenticate as configured.
var ErrConfig = errors.New("resonance: configuration")

// ErrNotSent wraps an error that came before any byte of the request was
// written (credentials, configuration, DNS, connect, TLS): Resonance surely
// did not act on it. Any other error may have come after Resonance received
// the request, so its outcome is unknown.
var ErrNotSent = errors.New("resonance: request not sent")

// Send posts body (an Event's bytes) with key as the Idempotency-Key header.
// A non-nil error means no HTTP answer was had (network error, time-out,
// missing credentials) and wraps ErrNotSent when the request surely did not
// leave; any HTTP answer, even 500, is a Response. The request is never
// re-sent by the HTTP client once written (Go's transport would otherwise
// replay a request carrying an Idempotency-Key on a broken connection).
func (c *Client) Send(ctx context.Context, key string, body []byte) (*Response, error) {
	creds, err := c.Credentials.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: credentials: %w", ErrNotSent, err)
	}
	var wrote atomic.Bool // set from the transport's goroutines
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+Path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %v", ErrNotSent, ErrConfig, err)
	}
	req.GetBody = nil // never replayed by the transport once read
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "resonance-webhook-relay/1")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if err := c.sign(req, creds, body); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	hc := http.Client{}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	// A redirect is never followed: a 303 after a POST says it was carried
	// out, and following it with a GET would judge the reward by another
	// request's answer. The 3xx itself is the answer (an unknown outcome).
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		if !wrote.Load() {
			return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
		}
		return nil, fmt.Errorf("resonance: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	out := &Response{Status: resp.StatusCode, Body: b, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now())}
	if resp.StatusCode/100 == 2 {
		// "success" must be a JSON boolean to count either way; the other
		// fields are informative only.
		var a struct {
			Success json.RawMessage `json:"success"`
			Reward  json.RawMessage `json:"rewardAmount"`
			TxHash  json.RawMessage `json:"txHash"`
		}
		if json.Unmarshal(b, &a) == nil {
			switch string(a.Success) {
			case "true", "false":
				ok := string(a.Success) == "true"
				out.Success = &ok
			}
			out.Reward = a.Reward
			_ = json.Unmarshal(a.TxHash, &out.TxHash)
		}
	}
	return out, nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sign(req *http.Request, creds Credentials, body []byte) error {
	mode := c.Auth
	if mode == "" {
		mode = AuthBearer
	}
	if mode == AuthBearer || mode == AuthBoth {
		if creds.APIKey == "" {
			return fmt.Errorf("%w: auth %s needs apiKey in the Resonance secret", ErrConfig, mode)
		}
		req.Header.Set("Authorization", "Bearer "+creds.APIKey)
	}
	if mode == AuthHMAC || mode == AuthBoth {
		if creds.HMACSecret == "" {
			return fmt.Errorf("%w: auth %s needs hmacSecret in the Resonance secret", ErrConfig, mode)
		}
		ts := strconv.FormatInt(c.now().UnixMilli(), 10)
		req.Header.Set("X-Resonance-Brand-Id", c.BrandID)
		req.Header.Set("X-Resonance-Timestamp", ts)
		req.Header.Set("X-Resonance-Signature", Signature(creds.HMACSecret, ts, c.BrandID, body))
	}
	if mode != AuthBearer && mode != AuthHMAC && mode != AuthBoth {
		return fmt.Errorf("%w: unknown auth mode %q (bearer, hmac or both)", ErrConfig, mode)
	}
	return nil
}

// Signature is hex HMAC-SHA256(secret, "<timestamp>:<brandId>:<body>").
func Signature(secret, timestamp, brandID string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + ":" + brandID + ":"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
