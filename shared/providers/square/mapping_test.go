package square

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

const (
	testKey = "square-signature-key"
	testURL = "https://hooks.example.com/webhooks/square"
)

// The golden bodies in testdata/ have the shape of the examples of Square's
// API reference (webhooks payment.updated and customer.created) with values
// of our own; the payment was created 2026-03-14T13:41:07.521Z.
var received = time.Date(2026, 3, 14, 13, 41, 10, 0, time.UTC)

func golden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func config() *mapping.Config {
	return &mapping.Config{Events: DefaultEvents()}
}

// deliver does what ingest does with a delivery Square signed for testURL
// (verify, parse, envelope) and maps the envelope as the forwarder would.
func deliver(t *testing.T, body []byte, at time.Time, cfg *mapping.Config) (mapping.Result, error) {
	t.Helper()
	r := &webhook.Request{Header: webhook.Header{HeaderSignature: Sign(testKey, testURL, body)}, Body: body, URL: testURL}
	if err := (Provider{}).Verify(r, [][]byte{[]byte(testKey)}, at); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	d, err := Provider{}.Parse(r)
	if err != nil {
		return mapping.Result{}, err
	}
	env := &envelope.Envelope{Version: envelope.Version, Provider: "square", EventType: d.EventType, DeliveryID: d.DeliveryID,
		ReceivedAt: at, Headers: d.Headers, Body: body}
	return Mapper{}.Map(env, cfg)
}

func TestMapGolden(t *testing.T) {
	for _, c := range []struct {
		file string
		want mapping.Result
	}{
		{"payment-updated-completed.json", mapping.Result{Rewards: []mapping.Reward{{
			Key: "square:payment:KkAkhdMsgzn59SM8A89WgKwekxLZY",
			Event: resonance.Event{EventType: resonance.Purchase, UserEmail: "maya.lindqvist@example.com",
				Metadata: map[string]any{"payment_id": "KkAkhdMsgzn59SM8A89WgKwekxLZY", "order_id": "CAISENgvhpdP05f1DWG9H8yMn4kZY",
					"order_value": json.Number("45.99"), "currency": "USD", "source": "square"}},
		}}}},
		{"payment-updated-approved.json", mapping.Result{Skipped: SkipNotCompleted}},
		{"customer-created.json", mapping.Result{Rewards: []mapping.Reward{{
			Key: "square:customer:JDKYHBWT1D4F8MFH63DBMEN8Y4",
			Event: resonance.Event{EventType: resonance.Signup, UserEmail: "maya.lindqvist@example.com",
				Metadata: map[string]any{"signup_source": "square"}},
		}}}},
		{"test-notification.json", mapping.Result{Skipped: SkipEventNotMapped}},
	} {
		t.Run(c.file, func(t *testing.T) {
			got, err := deliver(t, golden(t, c.file), received, config())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// edit returns the golden completed payment with old replaced by new.
func edit(t *testing.T, file string, pairs ...string) []byte {
	t.Helper()
	s := string(golden(t, file))
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%s has no %q", file, pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return []byte(s)
}

// Attacks a genuine signer could mount (a Square account of the
// attacker's, or a body signed for another subscription of the merchant)
// and malformed amounts: each is parked or skipped, never paid.
func TestMapAttacks(t *testing.T) {
	const pay = "payment-updated-completed.json"
	for _, c := range []struct {
		name   string
		body   []byte
		reason string // park reason, or skip reason
	}{
		{"customer body under payment.updated", edit(t, "customer-created.json", `"type": "customer.created"`, `"type": "payment.updated"`), ReasonTypeMismatch},
		{"payment body under customer.created", edit(t, pay, `"type": "payment.updated"`, `"type": "customer.created"`), ReasonTypeMismatch},
		{"refund under payment.updated", edit(t, pay, `"type": "payment",`, `"type": "refund",`), ReasonTypeMismatch},
		{"payment id is not data.id", edit(t, pay, `"id": "KkAkhdMsgzn59SM8A89WgKwekxLZY",
        "location_id"`, `"id": "OtherPayment",
        "location_id"`), mapping.ReasonInvalidPayload},
		{"negative amount", edit(t, pay, `"amount": 4599,
          "currency": "USD"
        },
        "approved_money"`, `"amount": -4599,
          "currency": "USD"
        },
        "approved_money"`), mapping.ReasonInvalidAmount},
		{"absurd amount", edit(t, pay, `"amount": 4599,
          "currency": "USD"
        },
        "approved_money"`, `"amount": 9223372036854775807,
          "currency": "USD"
        },
        "approved_money"`), mapping.ReasonInvalidAmount},
		{"amount beyond int64", edit(t, pay, `"amount": 4599,
          "currency": "USD"
        },
        "approved_money"`, `"amount": 1e30,
          "currency": "USD"
        },
        "approved_money"`), mapping.ReasonInvalidAmount},
		{"fractional minor units", edit(t, pay, `"amount": 4599,
          "currency": "USD"
        },
        "approved_money"`, `"amount": 45.99,
          "currency": "USD"
        },
        "approved_money"`), mapping.ReasonInvalidAmount},
		{"no currency", edit(t, pay, `"currency": "USD"
        },
        "approved_money"`, `"currency": ""
        },
        "approved_money"`), mapping.ReasonInvalidAmount},
		{"zero amount", edit(t, pay, `"amount": 4599,
          "currency": "USD"
        },
        "approved_money"`, `"amount": 0,
          "currency": "USD"
        },
        "approved_money"`), SkipNothingPaid},
		{"payment id as a float", edit(t, pay, `"id": "KkAkhdMsgzn59SM8A89WgKwekxLZY",
    "object"`, `"id": 1.0,
    "object"`), mapping.ReasonInvalidPayload},
		{"status in other case", edit(t, pay, `"status": "COMPLETED"`, `"status": "completed"`), SkipNotCompleted},
		{"canceled", edit(t, pay, `"status": "COMPLETED"`, `"status": "CANCELED"`), SkipNotCompleted},
		{"two status keys", edit(t, pay, `"status": "COMPLETED"`, `"status": "FAILED", "Status": "COMPLETED"`), mapping.ReasonAmbiguousPayload},
		{"replayed a year later", edit(t, pay, `"created_at": "2026-03-14T13:41:07.521Z"`, `"created_at": "2025-01-01T00:00:00Z"`), mapping.ReasonStaleDelivery},
		{"undated payment", edit(t, pay, `"created_at": "2026-03-14T13:41:07.521Z",`, ``), mapping.ReasonNoBusinessTime},
		{"no email, no synthetic", edit(t, pay, `"buyer_email_address": "maya.lindqvist@example.com",`, ``), mapping.ReasonNoIdentity},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := deliver(t, c.body, received, config())
			var pe *mapping.ParkError
			switch {
			case errors.As(err, &pe) && pe.Reason == c.reason:
			case err == nil && res.Skipped == c.reason && len(res.Rewards) == 0:
			default:
				t.Fatalf("got %+v, %v; want %s", res, err, c.reason)
			}
		})
	}
}

// A payment's events share one key: payment.created (APPROVED) pays
// nothing, each payment.updated that says COMPLETED maps to the same key
// (the idempotency table pays it once), whatever the event id.
func TestPaymentKeyIsStableAcrossEvents(t *testing.T) {
	cfg := config()
	cfg.Events["payment.created"] = resonance.Purchase
	first, err := deliver(t, golden(t, "payment-updated-completed.json"), received, cfg)
	if err != nil || len(first.Rewards) != 1 {
		t.Fatalf("%+v %v", first, err)
	}
	later := edit(t, "payment-updated-completed.json", "13b867cf-db3d-4b1c-90b6-2f32a9d78124", "99999999-db3d-4b1c-90b6-2f32a9d78124", `"version": 3`, `"version": 4`)
	again, err := deliver(t, later, received.Add(time.Hour), cfg)
	if err != nil || len(again.Rewards) != 1 || again.Rewards[0].Key != first.Rewards[0].Key {
		t.Fatalf("a later update of the same payment mapped to %+v, %v; want key %s", again, err, first.Rewards[0].Key)
	}
	created := edit(t, "payment-updated-approved.json", `"type": "payment.updated"`, `"type": "payment.created"`)
	if res, err := deliver(t, created, received, cfg); err != nil || len(res.Rewards) != 0 {
		t.Fatalf("payment.created of an approved payment: %+v, %v", res, err)
	}
}

// The envelope travels through an unsigned queue: a type changed there
// (a customer.created envelope made payment.updated) does not map.
func TestEnvelopeTypeMustBeTheBodys(t *testing.T) {
	body := golden(t, "customer-created.json")
	env := &envelope.Envelope{Version: envelope.Version, Provider: "square", EventType: "payment.updated", DeliveryID: "d", ReceivedAt: received, Body: body}
	_, err := Mapper{}.Map(env, config())
	var pe *mapping.ParkError
	if !errors.As(err, &pe) || pe.Reason != ReasonTypeMismatch {
		t.Fatalf("Map = %v, want %s", err, ReasonTypeMismatch)
	}
}

func TestSyntheticEmail(t *testing.T) {
	cfg := config()
	cfg.SyntheticEmail = true
	body := edit(t, "payment-updated-completed.json", `"buyer_email_address": "maya.lindqvist@example.com",`, ``)
	res, err := deliver(t, body, received, cfg)
	if err != nil || len(res.Rewards) != 1 || res.Rewards[0].Event.UserEmail != "square_JDKYHBWT1D4F8MFH63DBMEN8Y4@rsnc.network" {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestJPYHasNoDecimals(t *testing.T) {
	body := edit(t, "payment-updated-completed.json", `"currency": "USD"`, `"currency": "JPY"`)
	res, err := deliver(t, body, received, config())
	if err != nil || len(res.Rewards) != 1 || res.Rewards[0].Event.Metadata["order_value"] != json.Number("4599") {
		t.Fatalf("%+v %v", res, err)
	}
}
