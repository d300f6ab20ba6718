package devstack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// Sandbox is a local Resonance: it accepts the real manual-event request
// (both authentication schemes), checks it as Resonance documents, prints
// each award, and answers {success, rewardAmount, txHash}. A repeated
// Idempotency-Key gets 409, as an already rewarded event would.
type Sandbox struct {
	Out        io.Writer
	BrandID    string
	APIKey     string
	HMACSecret string

	mu     sync.Mutex
	awards map[string]Award
	order  []string
}

// Award is one reward the sandbox paid.
type Award struct {
	Key    string
	Event  resonance.Event
	Amount int
	TxHash string
	At     time.Time
}

// Awards returns the awards in the order they were paid.
func (s *Sandbox) Awards() []Award {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Award, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.awards[k])
	}
	return out
}

func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"success":false,"error":%q}`, msg)
		if s.Out != nil {
			fmt.Fprintf(s.Out, "resonance sandbox: %d %s\n", status, msg)
		}
	}
	if r.Method != http.MethodPost || r.URL.Path != resonance.Path {
		fail(404, "not found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(400, "unreadable body")
		return
	}
	if msg := s.authenticate(r, body); msg != "" {
		fail(401, msg)
		return
	}
	var ev resonance.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		fail(400, "body is not the manual-event JSON")
		return
	}
	switch {
	case s.BrandID != "" && !strings.EqualFold(ev.BrandID, s.BrandID):
		fail(403, "unknown brandId "+ev.BrandID)
		return
	case ev.EventType != resonance.Purchase && ev.EventType != resonance.Signup && ev.EventType != resonance.ReferralComplete && ev.EventType != resonance.CustomAction:
		fail(400, "event type "+ev.EventType+" is not configured for this brand")
		return
	case !strings.Contains(ev.UserEmail, "@"):
		fail(400, "userEmail is not an email")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = string(body)
	}
	s.mu.Lock()
	if s.awards == nil {
		s.awards = map[string]Award{}
	}
	if _, dup := s.awards[key]; dup {
		s.mu.Unlock()
		fail(409, "already rewarded")
		return
	}
	sum := sha256.Sum256([]byte(key))
	a := Award{Key: key, Event: ev, Amount: amount(ev), TxHash: "0x" + hex.EncodeToString(sum[:]), At: time.Now()}
	s.awards[key] = a
	s.order = append(s.order, key)
	s.mu.Unlock()
	if s.Out != nil {
		fmt.Fprintf(s.Out, "resonance sandbox: award %-17s %-24s +%d RSNC  %s  (%s)\n",
			ev.EventType, mapping.MaskEmail(ev.UserEmail), a.Amount, describe(ev.Metadata), key)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"success":true,"rewardAmount":%d,"txHash":%q}`, a.Amount, a.TxHash)
}

func (s *Sandbox) authenticate(r *http.Request, body []byte) string {
	bearer, sig := r.Header.Get("Authorization"), r.Header.Get("X-Resonance-Signature")
	if bearer == "" && sig == "" {
		return "no credentials"
	}
	if bearer != "" && bearer != "Bearer "+s.APIKey {
		return "bad API key"
	}
	if sig != "" {
		want := resonance.Signature(s.HMACSecret, r.Header.Get("X-Resonance-Timestamp"), r.Header.Get("X-Resonance-Brand-Id"), body)
		if !hmac.Equal([]byte(sig), []byte(want)) {
			return "bad HMAC signature"
		}
	}
	return ""
}

// amount is a made-up reward: 1 RSNC per unit of order value, 50 for a
// signup, 25 otherwise.
func amount(ev resonance.Event) int {
	if v, ok := ev.Metadata["order_value"].(float64); ok && v >= 1 {
		return int(v)
	}
	if ev.EventType == resonance.Signup {
		return 50
	}
	return 25
}

func describe(m map[string]any) string {
	if m == nil {
		return ""
	}
	if id, ok := m["order_id"]; ok {
		return fmt.Sprintf("order %v %v %v", id, m["order_value"], m["currency"])
	}
	if src, ok := m["signup_source"]; ok {
		return fmt.Sprintf("via %v", src)
	}
	return ""
}
