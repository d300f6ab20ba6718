package shopify

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// refundCreated is when refunds-create.json's refund was made.
var refundCreated = time.Date(2026, 3, 18, 14, 12, 44, 0, time.UTC)

// TestReversalsCarryThePurchaseKey: a refund (refunds/create) and a
// cancellation (orders/cancelled) of the order in orders-paid.json reverse
// exactly the key its purchase was paid under, with the default mapping.
func TestReversalsCarryThePurchaseKey(t *testing.T) {
	paid, err := deliver(t, Provider{}, golden(t, "orders-paid.json"), captured, received, "")
	if err != nil || len(paid.Rewards) != 1 {
		t.Fatalf("purchase: %+v, %v", paid, err)
	}
	key := paid.Rewards[0].Key
	for _, c := range []struct {
		file, topic string
		want        mapping.Reversal
	}{
		{"refunds-create.json", "refunds/create", mapping.Reversal{Key: key, ID: "929361462895214592", Reason: mapping.ReverseRefund,
			Amount: "12.72", Currency: "USD", OrderID: "6021879423011893248"}},
		{"orders-cancelled.json", "orders/cancelled", mapping.Reversal{Key: key, ID: "cancel:6021879423011893248", Reason: mapping.ReverseCancellation,
			Full: true, Currency: "USD", OrderID: "6021879423011893248"}},
	} {
		t.Run(c.topic, func(t *testing.T) {
			res, err := deliver(t, Provider{}, golden(t, c.file), with(captured, "x-shopify-topic", c.topic), refundCreated.Add(time.Hour), "")
			if err != nil || len(res.Rewards) != 0 || len(res.Reversals) != 1 {
				t.Fatalf("Map = %+v, %v; want one reversal", res, err)
			}
			if res.Reversals[0] != c.want {
				t.Fatalf("reversal %+v\nwant     %+v", res.Reversals[0], c.want)
			}
		})
	}
}

// TestAttackBodyUnderAReversalTopic: the topic is not signed, so anyone
// holding one genuine delivery can re-send its body under another topic.
// A paid order's body re-sent as orders/cancelled would void (or, once
// paid, mark refunded) a genuine reward; re-sent as refunds/create it is no
// refund. Only a body that proves it is what the topic says reverses
// anything: a refund by its gid://shopify/Refund/<id>, a cancellation by
// its signed cancelled_at. Before, every orders/* topic took any order
// body and refunds/* was no kind of its own.
func TestAttackBodyUnderAReversalTopic(t *testing.T) {
	order, refund, cancelled := golden(t, "orders-paid.json"), golden(t, "refunds-create.json"), golden(t, "orders-cancelled.json")
	// An order transaction (orders/transactions webhooks, signed with the
	// same secret) has an order_id, a kind refund and an amount too.
	orderTx := []byte(`{"id":7120034455667788990,"order_id":6021879423011893248,"kind":"refund","status":"success","amount":"131.08","currency":"USD","created_at":"2026-03-18T10:12:43-04:00","test":false,"admin_graphql_api_id":"gid://shopify/OrderTransaction/7120034455667788990","transactions":[{"kind":"refund","status":"success","amount":"131.08"}]}`)
	// A refund whose gid names another refund.
	otherGID := []byte(strings.Replace(string(refund), `"gid://shopify/Refund/929361462895214592"`, `"gid://shopify/Refund/1"`, 1))
	// A refund without its gid: told apart from an order transaction by
	// nothing else, so refused.
	noGID := []byte(strings.Replace(string(refund), `"admin_graphql_api_id": "gid://shopify/Refund/929361462895214592",`, ``, 1))
	for _, c := range []struct {
		name, topic string
		body        []byte
		park        string
	}{
		{"paid order as orders/cancelled", "orders/cancelled", order, ReasonTopicMismatch},
		{"paid order as refunds/create", "refunds/create", order, ReasonTopicMismatch},
		{"cancelled order as refunds/create", "refunds/create", cancelled, ReasonTopicMismatch},
		{"refund as orders/cancelled", "orders/cancelled", refund, ReasonTopicMismatch},
		{"refund as orders/paid", "orders/paid", refund, ReasonTopicMismatch},
		{"refund as customers/create", "customers/create", refund, ReasonTopicMismatch},
		{"order transaction as refunds/create", "refunds/create", orderTx, ReasonTopicMismatch},
		{"refund whose gid names another id", "refunds/create", otherGID, mapping.ReasonInvalidPayload},
		{"refund without its gid", "refunds/create", noGID, ReasonTopicMismatch},
		{"order with cancelled_at null", "orders/cancelled", []byte(strings.Replace(string(cancelled), `"cancelled_at": "2026-03-15T08:02:19-04:00"`, `"cancelled_at": null`, 1)), ReasonTopicMismatch},
		{"order with cancelled_at empty", "orders/cancelled", []byte(strings.Replace(string(cancelled), `"cancelled_at": "2026-03-15T08:02:19-04:00"`, `"cancelled_at": ""`, 1)), ReasonTopicMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := deliver(t, Provider{}, c.body, with(captured, "x-shopify-topic", c.topic), refundCreated.Add(time.Hour), "")
			var pe *mapping.ParkError
			if !errors.As(err, &pe) || pe.Reason != c.park || len(res.Reversals) != 0 || len(res.Rewards) != 0 {
				t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.park)
			}
		})
	}
	// The cancelled order itself is no purchase under orders/paid.
	res, err := deliver(t, Provider{}, cancelled, captured, refundCreated, "")
	if err != nil || len(res.Rewards)+len(res.Reversals) != 0 {
		t.Fatalf("cancelled order as orders/paid: %+v, %v; want skipped", res, err)
	}
}

// TestRefundAmount: a refund returns the exact decimal sum of its
// transactions of kind refund with status success; the others returned
// nothing (yet). A refund that returned nothing is skipped.
func TestRefundAmount(t *testing.T) {
	refund := func(txs string) []byte {
		return []byte(`{"id":11,"order_id":22,"created_at":"2026-03-18T10:12:44-04:00","admin_graphql_api_id":"gid://shopify/Refund/11","refund_line_items":[],"transactions":` + txs + `}`)
	}
	tx := func(kind, status, amount string) string {
		return `{"kind":"` + kind + `","status":"` + status + `","amount":` + amount + `,"currency":"USD","test":false}`
	}
	for _, c := range []struct {
		name, txs, overrides string
		want                 string // amount, or skip:/park: reason
	}{
		{"one", "[" + tx("refund", "success", `"12.72"`) + "]", "", "12.72"},
		{"two, summed exactly", "[" + tx("refund", "success", `"0.1"`) + "," + tx("refund", "success", `"0.2"`) + "]", "", "0.3"},
		{"finest decimals kept", "[" + tx("refund", "success", `"10"`) + "," + tx("refund", "success", `"5.5"`) + "," + tx("refund", "success", `"0.125"`) + "]", "", "15.625"},
		{"large", "[" + tx("refund", "success", `"999999999999.99"`) + "," + tx("refund", "success", `"0.01"`) + "]", "", "park:" + mapping.ReasonInvalidAmount},
		{"a number amount", "[" + tx("refund", "success", `12.5`) + "]", "", "12.5"},
		{"pending and failed ones not counted", "[" + tx("refund", "success", `"3.00"`) + "," + tx("refund", "pending", `"4.00"`) + "," + tx("refund", "failure", `"5.00"`) + "," + tx("refund", "error", `"6.00"`) + "]", "", "3.00"},
		{"other kinds not counted", "[" + tx("refund", "success", `"3.00"`) + "," + tx("sale", "success", `"4.00"`) + "," + tx("capture", "success", `"5.00"`) + "]", "", "3.00"},
		{"a restock only", "[]", "", "skip:" + SkipNothingRefunded},
		{"no transactions", "null", "", "skip:" + SkipNothingRefunded},
		{"only a pending one", "[" + tx("refund", "pending", `"4.00"`) + "]", "", "skip:" + SkipNothingRefunded},
		{"zero", "[" + tx("refund", "success", `"0.00"`) + "]", "", "skip:" + SkipNothingRefunded},
		{"negative", "[" + tx("refund", "success", `"-12.72"`) + "]", "", "park:" + mapping.ReasonInvalidAmount},
		{"exponent", "[" + tx("refund", "success", `"1e3"`) + "]", "", "park:" + mapping.ReasonInvalidAmount},
		{"two currencies", `[{"kind":"refund","status":"success","amount":"1.00","currency":"USD"},{"kind":"refund","status":"success","amount":"1.00","currency":"EUR"}]`, "", "park:" + mapping.ReasonInvalidPayload},
		{"transactions not a list", `{"kind":"refund"}`, "", "park:" + mapping.ReasonInvalidPayload},
		{"a test transaction", `[{"kind":"refund","status":"success","amount":"1.00","currency":"USD","test":true}]`, "", "skip:test_order"},
		{"a test transaction, tests included", `[{"kind":"refund","status":"success","amount":"1.00","currency":"USD","test":true}]`, `{"shopify":{"includeTest":true}}`, "1.00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := deliver(t, Provider{}, refund(c.txs), with(captured, "x-shopify-topic", "refunds/create"), refundCreated, c.overrides)
			var got string
			var pe *mapping.ParkError
			switch {
			case errors.As(err, &pe):
				got = "park:" + pe.Reason
			case err != nil:
				t.Fatal(err)
			case len(res.Reversals) == 1:
				r := res.Reversals[0]
				if r.Key != "shopify:order:22" || r.ID != "11" || r.Full || r.Total {
					t.Fatalf("reversal %+v", r)
				}
				got = string(r.Amount)
			default:
				got = "skip:" + res.Skipped
			}
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestReversalAgeAndTests: a reversal is dated by its own signed time (a
// refund's created_at, a cancellation's cancelled_at) like a purchase, so
// a replay older than the keys' memory is parked; a test order's
// cancellation is skipped like its purchase.
func TestReversalAgeAndTests(t *testing.T) {
	cancelled := golden(t, "orders-cancelled.json")
	day := 24 * time.Hour
	for _, c := range []struct {
		name, topic, overrides string
		body                   []byte
		at                     time.Time
		want                   string
	}{
		{"refund on day 369", "refunds/create", "", golden(t, "refunds-create.json"), refundCreated.Add(369 * day), "reversal"},
		{"refund replayed on day 371", "refunds/create", "", golden(t, "refunds-create.json"), refundCreated.Add(371 * day), "park:" + mapping.ReasonStaleDelivery},
		{"refund without created_at", "refunds/create", "", []byte(strings.Replace(string(golden(t, "refunds-create.json")), `"created_at": "2026-03-18T10:12:44-04:00",`, "", 1)), refundCreated, "park:" + mapping.ReasonNoBusinessTime},
		{"cancellation replayed on day 371", "orders/cancelled", "", cancelled, refundCreated.Add(371 * day), "park:" + mapping.ReasonStaleDelivery},
		{"cancellation not a time", "orders/cancelled", "", []byte(strings.Replace(string(cancelled), `"cancelled_at": "2026-03-15T08:02:19-04:00"`, `"cancelled_at": "yesterday"`, 1)), refundCreated, "park:" + mapping.ReasonInvalidPayload},
		{"test order cancelled", "orders/cancelled", "", []byte(strings.Replace(string(cancelled), `"test": false`, `"test": true`, 1)), refundCreated, "skip:test_order"},
		{"test order cancelled, tests included", "orders/cancelled", `{"shopify":{"includeTest":true}}`, []byte(strings.Replace(string(cancelled), `"test": false`, `"test": true`, 1)), refundCreated, "reversal"},
		{"refunds/create removed", "refunds/create", `{"shopify":{"events":{"refunds/create":""}}}`, golden(t, "refunds-create.json"), refundCreated, "skip:event_not_mapped"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := deliver(t, Provider{}, c.body, with(captured, "x-shopify-topic", c.topic), c.at, c.overrides)
			var got string
			var pe *mapping.ParkError
			switch {
			case errors.As(err, &pe):
				got = "park:" + pe.Reason
			case err != nil:
				t.Fatal(err)
			case len(res.Reversals) == 1:
				got = "reversal"
			default:
				got = "skip:" + res.Skipped
			}
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}
