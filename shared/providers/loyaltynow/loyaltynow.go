// Package loyaltynow verifies and reads Loyalty Now webhooks.
//
// x-l1-signature is base64(HMAC-SHA256(secret, body + URL + x-l1-requestdate)),
// a plain concatenation, where URL is the webhook URL as registered in Loyalty
// Now and x-l1-requestdate is "yyyy-MM-ddTHH:mm:ssZ". Requests older than a
// minute are discarded. Each registration has its own secret.
package loyaltynow

import (
	"encoding/base64"
	"fmt"
	"hash"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Header names, lowercase.
const (
	HeaderSignature   = "x-l1-signature"
	HeaderRequestDate = "x-l1-requestdate"
)

// DateLayout is the layout of x-l1-requestdate.
const DateLayout = "2006-01-02T15:04:05Z"

// DefaultMaxAge is how old a request may be; DefaultMaxSkew is how far in the
// future its date may be (clock skew between Loyalty Now and AWS).
const (
	DefaultMaxAge  = 60 * time.Second
	DefaultMaxSkew = 60 * time.Second
)

// Provider implements webhook.Provider for Loyalty Now.
type Provider struct {
	// MaxAge and MaxSkew override the defaults when positive.
	MaxAge, MaxSkew time.Duration
}

var _ webhook.Provider = Provider{}

// Verify checks x-l1-signature over body + r.URL + x-l1-requestdate, then
// the date's age.
func (p Provider) Verify(r *webhook.Request, secrets [][]byte, now time.Time) error {
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	v, date := r.Header.Get(HeaderSignature), r.Header.Get(HeaderRequestDate)
	if v == "" || date == "" {
		return webhook.ErrMissingSignature
	}
	sig, err := webhook.Base64MAC(v, HeaderSignature)
	if err != nil {
		return err
	}
	ts, err := parseDate(date)
	if err != nil {
		return fmt.Errorf("%w: %s is not yyyy-MM-ddTHH:mm:ssZ", webhook.ErrMalformedSignature, HeaderRequestDate)
	}
	write := func(h hash.Hash) {
		h.Write(r.Body)
		h.Write(webhook.View(r.URL))
		h.Write(webhook.View(date))
	}
	if !webhook.MatchAny(secrets, [][]byte{sig[:]}, write) {
		return webhook.ErrSignatureMismatch
	}
	age, skew := p.MaxAge, p.MaxSkew
	if age <= 0 {
		age = DefaultMaxAge
	}
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	return webhook.CheckWindow(ts, now, age, skew)
}

// Parse reads hook and sequence (globally unique: the delivery id).
func (Provider) Parse(r *webhook.Request) (webhook.Delivery, error) {
	var f [2][]byte // hook, sequence
	if err := webhook.TopLevelInto(r.Body, []string{"hook", "sequence"}, f[:]); err != nil {
		return webhook.Delivery{}, err
	}
	d := webhook.Delivery{
		EventType: r.String(f[0]),
		Headers:   r.Header.Keep(HeaderRequestDate),
	}
	if d.EventType == "" {
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingEventType, Detail: "no hook in body"}
	}
	if d.DeliveryID = r.Scalar(f[1]); d.DeliveryID == "" {
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingDeliveryID, Detail: "no sequence in body"}
	}
	return d, nil
}

// Sign returns the x-l1-requestdate and x-l1-signature values for body sent
// to url at time t.
func Sign(secret string, body []byte, url string, t time.Time) (date, signature string) {
	date = t.UTC().Format(DateLayout)
	sum := webhook.Sum([]byte(secret), func(h hash.Hash) {
		h.Write(body)
		h.Write([]byte(url))
		h.Write([]byte(date))
	})
	return date, base64.StdEncoding.EncodeToString(sum)
}

// parseDate is time.Parse(DateLayout, s), without its layout walk for the
// one spelling senders write (a fuzz test holds the two equal): any other
// string goes to time.Parse.
func parseDate(s string) (time.Time, error) {
	if t, ok := canonicalDate(s); ok {
		return t, nil
	}
	return time.Parse(DateLayout, s)
}

// canonicalDate reads yyyy-MM-ddTHH:mm:ssZ, all digits where digits go,
// with each field in range (the day within its month); ok is false for
// anything else.
func canonicalDate(s string) (_ time.Time, ok bool) {
	if len(s) != len(DateLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	if d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() { // the month's last day
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), true
}
