package dlq_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/dlq"
)

// TestAttackShowHidesWhatAnOperatorDecidesOn: the forwarder parks an
// outcome_unknown with the attempt that may have paid and when it was
// claimed, and the README tells the operator they are attached; and an
// envelope_unverified message is to be re-signed only if the operator
// vouches for it (a retired key) and deleted if someone else wrote it. show
// printed neither the attempt nor claimed_at, nor who re-signed an envelope,
// nor whether its signature verifies with the relay's key today: the
// operator had to decide blind between "resolve -as resend", "replay
// -resign" and "delete".
func TestAttackShowHidesWhatAnOperatorDecidesOn(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	signed := func(by string, edit bool) *envelope.Envelope {
		e := &envelope.Envelope{Version: 1, Provider: "custom", EventType: "purchase", DeliveryID: "msg_1",
			ReceivedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), ResignedBy: by,
			Body: []byte(`{"id":"order-1","type":"purchase","customerEmail":"ana@example.com","data":{"order_value":"10.00"}}`)}
		if err := envelope.Sign(e, key); err != nil {
			t.Fatal(err)
		}
		if edit {
			e.Body = bytes.Replace(e.Body, []byte("10.00"), []byte("9999.00"), 1)
		}
		return e
	}
	tool := &dlq.Tool{Keys: envelope.StaticKeys{key}}
	cases := []struct {
		name  string
		msg   dlq.Message
		wants []string
	}{
		{"outcome_unknown", dlq.Message{ID: "m1", Envelope: signed("", false), Attrs: map[string]string{
			"reason": "outcome_unknown", "reward_key": "custom:order-1", "attempt": "2", "claimed_at": "2026-11-02T09:00:01Z",
			"detail": "Resonance answered 500 to attempt 2: the reward may have been paid"}},
			[]string{"attempt", "2", "claimed at", "2026-11-02T09:00:01Z", "signature", "verifies"}},
		{"resigned", dlq.Message{ID: "m2", Envelope: signed("ops@laptop", false), Attrs: map[string]string{"reason": "stale_envelope"}},
			[]string{"re-signed by", "ops@laptop", "signature", "verifies"}},
		{"edited", dlq.Message{ID: "m3", Envelope: signed("", true), Attrs: map[string]string{"reason": "envelope_unverified"}},
			[]string{"signature", "does not verify"}},
		{"release", dlq.Message{ID: "m5", Envelope: &envelope.Envelope{Version: 1, Provider: "relay", EventType: "release", Sig: "v2=00", Body: []byte(`{"pk":"shopify:order:1"}`)},
			Attrs: map[string]string{"reason": "resonance_rejected"}},
			[]string{"signature", "releaser's own key", "never re-signed"}},
		{"unsigned", dlq.Message{ID: "m4", Envelope: &envelope.Envelope{Version: 1, Provider: "custom", EventType: "purchase", Body: []byte(`{}`)},
			Attrs: map[string]string{"reason": "envelope_unverified"}},
			[]string{"signature", "none"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tool.CheckSignature(context.Background(), &c.msg)
			var out bytes.Buffer
			dlq.Show(&out, c.msg)
			for _, w := range c.wants {
				if !strings.Contains(out.String(), w) {
					t.Errorf("show lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestReleaseIsNeverResigned: a parked release re-signed with the envelope
// key would be parked again by the forwarder (it verifies releases with the
// releaser's key only): the tool refuses, and says to replay it as it is.
func TestReleaseIsNeverResigned(t *testing.T) {
	tool := &dlq.Tool{Keys: envelope.StaticKeys{bytes.Repeat([]byte("k"), 32)}}
	msg := dlq.Message{ID: "m1", Envelope: &envelope.Envelope{Version: 1, Provider: "relay", EventType: "release", Body: []byte(`{"pk":"x"}`)}}
	if _, err := tool.ReplayResigned(context.Background(), []dlq.Message{msg}, "ops"); err == nil || !strings.Contains(err.Error(), "replay it as it is") {
		t.Fatalf("re-signing a release: %v", err)
	}
}
