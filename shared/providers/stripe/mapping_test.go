package stripe

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

func stripeEnv(typ, obj string) *envelope.Envelope {
	body := `{"id":"evt_1","type":"` + typ + `","livemode":true,"data":{"object":` + obj + `}}`
	return &envelope.Envelope{Version: envelope.Version, Provider: "stripe", EventType: typ, DeliveryID: "evt_1", Body: []byte(body)}
}

// TestMapEdges: the cases the payment table does not reach.
func TestMapEdges(t *testing.T) {
	const invoiceFamily = `{"stripe":{"events":{"invoice.paid":"purchase","charge.succeeded":"","charge.captured":"",` +
		`"checkout.session.completed":"","checkout.session.async_payment_succeeded":""}}}`
	for _, c := range []struct {
		name, overrides string
		env             *envelope.Envelope
		wantKey         string // "" when no reward
		wantValue       string
		wantSkip        string
		wantPark        string
	}{
		{"async payment of a payment-mode session", "", stripeEnv("checkout.session.async_payment_succeeded",
			`{"id":"cs_1","mode":"payment","payment_status":"paid","payment_intent":"pi_1","amount_total":2500,"currency":"eur","customer_details":{"email":"a@x.io"}}`),
			"stripe:payment:pi_1", "25.00", "", ""},
		{"session in setup mode", "", stripeEnv("checkout.session.completed",
			`{"id":"cs_2","mode":"setup","payment_status":"no_payment_required","payment_intent":null,"amount_total":null,"currency":null,"customer_details":{"email":"a@x.io"}}`),
			"", "", SkipSessionNoPayment, ""},
		{"session without a mode", "", stripeEnv("checkout.session.completed",
			`{"id":"cs_3","payment_status":"paid","payment_intent":"pi_3","amount_total":100,"currency":"usd","customer_details":{"email":"a@x.io"}}`),
			"", "", SkipSessionNoPayment, ""},
		{"subscription session even when mapped by override", `{"stripe":{"events":{"checkout.session.completed":"subscribe"}}}`, stripeEnv("checkout.session.completed",
			`{"id":"cs_4","mode":"subscription","payment_status":"paid","payment_intent":null,"invoice":"in_4","amount_total":900,"currency":"usd","customer_details":{"email":"a@x.io"}}`),
			"", "", SkipSessionByInvoice, ""},
		{"paid payment-mode session without a payment intent parks", "", stripeEnv("checkout.session.completed",
			`{"id":"cs_5","mode":"payment","payment_status":"paid","payment_intent":null,"amount_total":100,"currency":"usd","customer_details":{"email":"a@x.io"}}`),
			"", "", "", mapping.ReasonInvalidPayload},
		{"legacy charge without a payment intent keys on itself", "", stripeEnv("charge.succeeded",
			`{"id":"ch_legacy","payment_intent":null,"captured":true,"amount":700,"currency":"gbp","receipt_email":"a@x.io"}`),
			"stripe:payment:ch_legacy", "7.00", "", ""},
		{"charge with an expanded payment intent", "", stripeEnv("charge.succeeded",
			`{"id":"ch_6","payment_intent":{"id":"pi_6","object":"payment_intent"},"captured":true,"amount":700,"amount_captured":700,"currency":"usd","billing_details":{"email":"a@x.io"}}`),
			"stripe:payment:pi_6", "7.00", "", ""},
		{"charge that does not say it is captured", "", stripeEnv("charge.succeeded",
			`{"id":"ch_7","payment_intent":"pi_7","amount":700,"currency":"usd","billing_details":{"email":"a@x.io"}}`),
			"", "", SkipNotCaptured, ""},
		{"negative charge parks", "", stripeEnv("charge.succeeded",
			`{"id":"ch_8","payment_intent":"pi_8","captured":true,"amount":-500,"currency":"usd","billing_details":{"email":"a@x.io"}}`),
			"", "", "", mapping.ReasonInvalidPayload},
		{"amount as a fraction parks", "", stripeEnv("charge.succeeded",
			`{"id":"ch_9","payment_intent":"pi_9","captured":true,"amount":5e2,"currency":"usd","billing_details":{"email":"a@x.io"}}`),
			"", "", "", mapping.ReasonInvalidPayload},
		{"currency that is not a code parks", "", stripeEnv("charge.succeeded",
			`{"id":"ch_10","payment_intent":"pi_10","captured":true,"amount":500,"currency":"f c","billing_details":{"email":"a@x.io"}}`),
			"", "", "", mapping.ReasonInvalidPayload},
		{"charge without an email parks", "", stripeEnv("charge.succeeded",
			`{"id":"ch_11","payment_intent":"pi_11","captured":true,"amount":500,"currency":"usd","customer":"cus_11","billing_details":{"email":null},"receipt_email":null}`),
			"", "", "", mapping.ReasonNoIdentity},
		{"invoice family: invoice naming its payment intent (before basil)", invoiceFamily, stripeEnv("invoice.paid",
			`{"id":"in_1","payment_intent":"pi_12","amount_paid":1500,"currency":"usd","customer_email":"a@x.io"}`),
			"stripe:payment:pi_12", "15.00", "", ""},
		{"invoice family: expanded payments list", invoiceFamily, stripeEnv("invoice.paid",
			`{"id":"in_2","amount_paid":1500,"currency":"usd","customer_email":"a@x.io","payments":{"data":[{"payment":{"type":"payment_intent","payment_intent":"pi_13"}}]}}`),
			"stripe:payment:pi_13", "15.00", "", ""},
		{"invoice family: basil invoice keys on itself", invoiceFamily, stripeEnv("invoice.paid",
			`{"id":"in_3","amount_paid":1500,"currency":"usd","customer_email":"a@x.io","parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_1"}}}`),
			"stripe:payment:in_3", "15.00", "", ""},
		{"invoice family: a trial's zero invoice earns nothing", invoiceFamily, stripeEnv("invoice.paid",
			`{"id":"in_4","amount_paid":0,"currency":"usd","customer_email":"a@x.io"}`),
			"", "", SkipNothingPaid, ""},
		{"the body's type decides, not the envelope's", "", func() *envelope.Envelope {
			e := stripeEnv("payment_intent.succeeded", `{"id":"pi_14","amount_received":100,"currency":"usd","receipt_email":"a@x.io"}`)
			e.EventType = "charge.succeeded"
			return e
		}(), "", "", "event_not_mapped", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfgs, err := mapping.Load(spec.Defaults(&Spec), c.overrides)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Mapper{}.Map(c.env, cfgs["stripe"])
			var pe *mapping.ParkError
			switch {
			case c.wantPark != "":
				if !errors.As(err, &pe) || pe.Reason != c.wantPark {
					t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.wantPark)
				}
			case err != nil:
				t.Fatalf("Map: %v", err)
			case c.wantKey == "":
				if len(res.Rewards) != 0 || res.Skipped != c.wantSkip {
					t.Fatalf("Map = %+v, want skipped %s", res, c.wantSkip)
				}
			default:
				if len(res.Rewards) != 1 || res.Rewards[0].Key != c.wantKey {
					t.Fatalf("Map = %+v, want key %s", res, c.wantKey)
				}
				if v := res.Rewards[0].Event.Metadata["order_value"]; v != json.Number(c.wantValue) {
					t.Fatalf("order_value %v, want %s", v, c.wantValue)
				}
			}
		})
	}
}

func TestFromMinorUnits(t *testing.T) {
	for _, c := range []struct{ amount, cur, want, err string }{
		{"4999", "usd", "49.99", ""}, {"5", "eur", "0.05", ""}, {"0", "usd", "0.00", ""}, {"5000", "JPY", "5000", ""},
		{"1234", "kwd", "1.234", ""}, {"1", "bhd", "0.001", ""}, {"9223372036854775807", "usd", "92233720368547758.07", ""},
		{"-250", "gbp", "", "negative"}, {"-1", "jpy", "", "negative"},
		{"2.5", "usd", "", "not an integer"}, {"1e3", "usd", "", "not an integer"}, {"", "usd", "", "not an integer"},
		{"9223372036854775808", "usd", "", "not an integer"},
		{"100", "", "", "currency"}, {"100", "usdt", "", "currency"}, {"100", "u$d", "", "currency"}, {"100", "F C", "", "currency"},
	} {
		got, err := FromMinorUnits(json.Number(c.amount), c.cur)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("FromMinorUnits(%s %s) = %s, %v; want an error saying %q", c.amount, c.cur, got, err, c.err)
		case c.err == "" && (err != nil || string(got) != c.want):
			t.Errorf("FromMinorUnits(%s %s) = %s, %v; want %s", c.amount, c.cur, got, err, c.want)
		}
	}
}
