//go:build e2e

package devstack

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/forward"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/dlq"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/sqspoll"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/runtime"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// faultyResonance fails 10% of calls with 500, 5% with 429 and Retry-After,
// holds 2% past the client's time-out, and rejects 3% of reward keys for
// good with 400. Everything else is an award, recorded per key. It honours
// Idempotency-Key: a key already paid gets 409 and no second award, and
// those 409s are counted (each is a re-send by the relay).
type faultyResonance struct {
	mu       sync.Mutex
	awards   map[string]int
	rejected map[string]int
	resends  map[string]int
	unknown  map[string]bool // keys given an answer that leaves the outcome unknown
	calls    atomic.Int64
	rng      *rand.Rand
	calm     atomic.Bool // the money phase: no faults but the rejections for good
}

func rejectsForGood(key string) bool {
	h := fnv.New32a()
	h.Write([]byte(key))
	return h.Sum32()%100 < 3
}

func (s *faultyResonance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	s.calls.Add(1)
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	roll := s.rng.IntN(100)
	if s.awards[key] > 0 {
		s.resends[key]++
		s.mu.Unlock()
		w.WriteHeader(409)
		return
	}
	switch {
	case rejectsForGood(key):
		s.rejected[key]++
		s.mu.Unlock()
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"success":false,"error":"event type not configured"}`)
		return
	case s.calm.Load():
	case roll < 7: // busy: did not act
		s.mu.Unlock()
		w.WriteHeader(503)
		return
	case roll < 10: // failed, perhaps after acting: the outcome is unknown
		s.unknown[key] = true
		s.mu.Unlock()
		w.WriteHeader(500)
		return
	case roll < 15:
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(429)
		return
	case roll < 16: // too slow: the relay gives up first, not knowing
		s.unknown[key] = true
		s.mu.Unlock()
		time.Sleep(1500 * time.Millisecond) // past RESONANCE_TIMEOUT
		w.WriteHeader(504)
		return
	case roll < 17: // paid, but the answer comes too late to be read
		s.unknown[key] = true
		s.awards[key]++
		s.mu.Unlock()
		time.Sleep(1500 * time.Millisecond)
		_, _ = io.WriteString(w, `{"success":true,"rewardAmount":10,"txHash":"0x1"}`)
		return
	case roll < 18: // a 2xx that is not a payment
		s.unknown[key] = true
		s.mu.Unlock()
		_, _ = io.WriteString(w, `<html>maintenance</html>`)
		return
	}
	s.awards[key]++
	s.mu.Unlock()
	_, _ = io.WriteString(w, `{"success":true,"rewardAmount":10,"txHash":"0x1"}`)
}

// unknownKeys returns the keys the relay cannot know the outcome of.
func (s *faultyResonance) unknownKeys() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]bool, len(s.unknown))
	for k := range s.unknown {
		out[k] = true
	}
	return out
}

// forget clears the unknown mark of re-sent keys: they must now be paid,
// or be of unknown outcome again.
func (s *faultyResonance) forget(resent []dlq.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range resent {
		delete(s.unknown, m.Attrs["reward_key"])
	}
}

func (s *faultyResonance) markUnknown(key string) {
	s.mu.Lock()
	s.unknown[key] = true
	s.mu.Unlock()
}

func (s *faultyResonance) snapshot() (awards, resends map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	awards, resends = map[string]int{}, map[string]int{}
	for k, v := range s.awards {
		awards[k] = v
	}
	for k, v := range s.resends {
		resends[k] = v
	}
	return
}

// hook is one webhook to deliver, with the reward key it must earn (or,
// for the second events of a payment, that its first earns).
type hook struct {
	provider string
	body     []byte
	headers  map[string]string
	key      string
	ignore   bool        // not in the default event set: ingest answers 200 "ignored"
	accepted atomic.Bool // answered 200 at least once
	ignored  atomic.Bool // answered 200 "ignored"
}

// makeHooks builds n webhooks per provider tagged run (a WooCommerce order
// as two deliveries, created paid and then completed, which share a key),
// and n/2 Stripe
// payments: a third of them subscription payments delivered as the four
// events Stripe sends from API version 2025-03-31 (a checkout session in
// subscription mode with no payment intent, an invoice that names none,
// the payment intent and its charge), the others one-off payments delivered
// as a checkout session and its charge. Each payment must earn one reward,
// under its payment intent; siblings counts its other events.
func makeHooks(run string, n int) (hooks []*hook, siblings int) {
	shop := "e2e.myshopify.com"
	now := time.Now().UTC().Format(time.RFC3339) // Shopify's and Zupy's bodies carry their business time
	for i := range n {
		id := fmt.Sprintf("%s%05d", run, i)
		email := fmt.Sprintf("c%s@example.com", id)
		offset := map[string]int{"a": 100_000, "b": 200_000, "c": 300_000}[run]
		num := strconv.Itoa(7_000_000_000_000_000_000 + offset + i) // beyond 2^53
		hooks = append(hooks,
			&hook{provider: "shopify", body: []byte(`{"id":` + num + `,"email":"` + email + `","created_at":"` + now + `","financial_status":"paid","total_price":"12.50","currency":"USD","line_items":[{"quantity":1}]}`),
				headers: map[string]string{"x-shopify-topic": "orders/paid", "x-shopify-shop-domain": shop, "x-shopify-event-id": "ev-" + id, "content-type": "application/json"},
				key:     "shopify:order:" + num},
			&hook{provider: "zupy", body: []byte(`{"event":"points.earned","timestamp":"` + now + `","customer":{"member_id":"m` + id + `","email":"` + email + `"},"transaction":{"transaction_id":"tx` + id + `","order_value":10.5}}`),
				headers: map[string]string{"x-zupy-event": "points.earned", "content-type": "application/json"}, key: "zupy:transaction:tx" + id},
			&hook{provider: "loyaltynow", body: []byte(`{"hook":"transaction.confirmed","data":{"transactionId":"ln` + id + `","email":"` + email + `","amount":7,"currency":"AUD"},"sequence":` + strconv.Itoa(offset+i) + `}`),
				headers: map[string]string{"content-type": "application/json"}, key: "loyaltynow:transaction:ln" + id},
			&hook{provider: "custom", body: []byte(`{"id":"cu` + id + `","type":"purchase","customerEmail":"` + email + `","data":{"order_id":"` + id + `","order_value":3}}`),
				headers: map[string]string{"content-type": "application/json", "webhook-id": "msg_" + id}, key: "custom:cu" + id},
		)
		// WooCommerce: an order created already paid (processing), then
		// updated to completed: one reward, keyed on the store and the order.
		gmt := time.Now().UTC().Format("2006-01-02T15:04:05")
		order := func(status string) []byte {
			return []byte(`{"id":` + strconv.Itoa(offset+i) + `,"status":"` + status + `","currency":"EUR","total":"19.90","date_created_gmt":"` + gmt +
				`","date_paid_gmt":"` + gmt + `","customer_id":0,"billing":{"email":"` + email + `"},"line_items":[{"quantity":2}],` +
				`"_links":{"self":[{"href":"https://shop.e2e.example/wp-json/wc/v3/orders/` + strconv.Itoa(offset+i) + `"}]}}`)
		}
		woo := func(topic, status string) *hook {
			return &hook{provider: "woocommerce", body: order(status), key: "woocommerce:shop.e2e.example:order:" + strconv.Itoa(offset+i),
				headers: map[string]string{"content-type": "application/json", "x-wc-webhook-topic": topic, "x-wc-webhook-source": "https://shop.e2e.example/",
					"x-wc-webhook-delivery-id": "wc-" + topic + id}}
		}
		// Square: a completed payment in minor units.
		sq := `{"merchant_id":"ME2E","type":"payment.updated","event_id":"sq-` + id + `","created_at":"` + now + `","data":{"type":"payment","id":"sqp` + id +
			`","object":{"payment":{"id":"sqp` + id + `","status":"COMPLETED","created_at":"` + now + `","amount_money":{"amount":2599,"currency":"USD"},"buyer_email_address":"` + email + `"}}}}`
		// A generic HMAC source configured for a scheme unlike any built-in
		// (acme: hex HMAC-SHA512 over "<unix seconds>.<body>", cents): an
		// order delivered twice, under two delivery ids, pays once.
		acme := func(delivery string) *hook {
			return &hook{provider: "hmac:acme", key: "hmac:acme:order:AC-" + id,
				body:    []byte(`{"type":"order.paid","customer":{"id":"ac` + id + `","email":"` + email + `"},"order":{"id":"AC-` + id + `","status":"paid","total":1250,"currency":"EUR"}}`),
				headers: map[string]string{"content-type": "application/json", "x-acme-delivery": delivery}}
		}
		hooks = append(hooks, acme("ad1-"+id), acme("ad2-"+id))
		siblings++
		hooks = append(hooks,
			woo("order.created", "processing"), woo("order.updated", "completed"),
			&hook{provider: "square", body: []byte(sq), headers: map[string]string{"content-type": "application/json"}, key: "square:payment:sqp" + id},
		)
		siblings++
		ev := func(typ, obj string) []byte {
			return []byte(`{"id":"evt_` + typ[:3] + id + `","object":"event","api_version":"2025-03-31.basil","type":"` + typ + `","livemode":true,"data":{"object":` + obj + `}}`)
		}
		stripe := func(body []byte, key string, ignore bool) *hook {
			return &hook{provider: "stripe", body: body, headers: map[string]string{"content-type": "application/json"}, key: key, ignore: ignore}
		}
		switch {
		case i%6 == 0:
			pi, key := "pi_sub"+id, "stripe:payment:pi_sub"+id
			hooks = append(hooks,
				stripe(ev("checkout.session.completed", `{"id":"cs_sub`+id+`","object":"checkout.session","mode":"subscription","payment_status":"paid","status":"complete","payment_intent":null,"invoice":"in_`+id+`","subscription":"sub_`+id+`","customer":"cus_`+id+`","amount_total":1500,"currency":"usd","customer_details":{"email":"`+email+`"}}`), key, false),
				stripe(ev("invoice.paid", `{"id":"in_`+id+`","object":"invoice","status":"paid","billing_reason":"subscription_create","amount_paid":1500,"currency":"usd","customer":"cus_`+id+`","customer_email":"`+email+`","parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_`+id+`"}}}`), key, true),
				stripe(ev("payment_intent.succeeded", `{"id":"`+pi+`","object":"payment_intent","amount":1500,"amount_received":1500,"currency":"usd","customer":"cus_`+id+`","status":"succeeded","latest_charge":"ch_sub`+id+`"}`), key, true),
				stripe(ev("charge.succeeded", `{"id":"ch_sub`+id+`","object":"charge","payment_intent":"`+pi+`","amount":1500,"amount_captured":1500,"captured":true,"paid":true,"status":"succeeded","currency":"usd","customer":"cus_`+id+`","billing_details":{"email":"`+email+`"}}`), key, false),
			)
			siblings += 3
		case i%2 == 0:
			pi, key := "pi_"+id, "stripe:payment:pi_"+id
			hooks = append(hooks,
				stripe(ev("checkout.session.completed", `{"id":"cs_`+id+`","object":"checkout.session","mode":"payment","payment_status":"paid","status":"complete","payment_intent":"`+pi+`","amount_total":4999,"currency":"usd","customer_details":{"email":"`+email+`"}}`), key, false),
				stripe(ev("charge.succeeded", `{"id":"ch_`+id+`","object":"charge","payment_intent":"`+pi+`","amount":4999,"amount_captured":4999,"captured":true,"paid":true,"status":"succeeded","currency":"usd","billing_details":{"email":"`+email+`"}}`), key, false),
			)
			siblings++
		}
	}
	return hooks, siblings
}

// makeReplays re-sends captured Shopify and Zupy deliveries of hooks (up to
// n of each, among those paid) with their unsigned headers altered, as an
// attacker holding them could: a Shopify order under another shop domain
// with new event and webhook ids (it must be recognised as paid), and under
// the topic customers/create (parked topic_mismatch); a Zupy purchase with
// X-Zupy-Event naming a signup (parked event_mismatch at ingest). None may
// earn anything.
func makeReplays(hooks []*hook, n int) (replays []*hook, topicMismatch, eventMismatch int) {
	alter := func(h map[string]string, kv ...string) map[string]string {
		out := make(map[string]string, len(h)+2)
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	shops, zupys := 0, 0
	for _, h := range hooks {
		if !h.accepted.Load() || rejectsForGood(h.key) {
			continue
		}
		switch {
		case h.provider == "shopify" && shops < n:
			shops++
			id := h.headers["x-shopify-event-id"]
			replays = append(replays,
				&hook{provider: "shopify", body: h.body, key: h.key, headers: alter(h.headers,
					"x-shopify-shop-domain", "elsewhere.myshopify.com", "x-shopify-event-id", "replay-"+id, "x-shopify-webhook-id", "replay-wh-"+id)},
				&hook{provider: "shopify", body: h.body, key: h.key, headers: alter(h.headers,
					"x-shopify-topic", "customers/create", "x-shopify-event-id", "replay-signup-"+id)})
			topicMismatch++
		case h.provider == "zupy" && zupys < n:
			zupys++
			replays = append(replays, &hook{provider: "zupy", body: h.body, key: h.key, headers: alter(h.headers, "x-zupy-event", "customer.registered")})
			eventMismatch++
		}
	}
	return replays, topicMismatch, eventMismatch
}

// e2e drives the stack as the providers would and watches it. It has no
// wall-clock limits of its own: a watchdog ends the test, with a report of
// where every webhook is, when nothing has moved for the stall time (or
// when go test's -timeout is near), and prints a progress line every few
// seconds meanwhile.
type e2e struct {
	t        *testing.T
	stack    *Stack
	front    *httptest.Server
	secrets  secrets.WebhookSecrets
	res      *faultyResonance
	sqs      *sqs.Client
	console  io.Writer // the real stdout: the Lambda handlers' JSON logs go to a file
	window   int       // most accepted webhooks not yet paid or parked before senders wait
	attempts atomic.Int64
	rejected atomic.Int64 // 401s: must stay 0
	crashes  atomic.Int64
	handler  atomic.Pointer[sqspoll.Handler]
	details  map[string][]string // DLQ reason and detail by reward key, for the failure report

	ctx   context.Context // ends when the watchdog gives up
	abort context.CancelCauseFunc
	start time.Time

	mu    sync.Mutex
	hooks []*hook
	phase string
}

func (e *e2e) setPhase(p string) {
	e.mu.Lock()
	e.phase = p
	e.mu.Unlock()
	fmt.Fprintf(e.console, "e2e: %6s %s\n", e.elapsed(), p)
}

func (e *e2e) elapsed() string { return time.Since(e.start).Round(time.Second).String() }

// send delivers h as a provider would: signed afresh on every attempt,
// retried with a pause on anything but 2xx (a 401 is a test failure), until
// it is answered 200 or the watchdog ends the test.
func (e *e2e) send(h *hook) {
	for e.ctx.Err() == nil {
		e.attempts.Add(1)
		path := "/webhooks/" + strings.ReplaceAll(h.provider, ":", "/") // hmac:acme -> /webhooks/hmac/acme
		headers, err := samples.Sign(h.provider, spec.Delivery{Body: h.body, URL: "https://" + strings.TrimPrefix(e.front.URL, "http://") + path, At: time.Now(), Headers: h.headers}, string(e.secrets[h.provider][0]))
		if err != nil {
			e.t.Error(err)
			return
		}
		req, _ := http.NewRequestWithContext(e.ctx, "POST", e.front.URL+path, strings.NewReader(string(h.body)))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				if strings.Contains(string(answer), `"status":"ignored"`) {
					h.ignored.Store(true)
				}
				h.accepted.Store(true)
				return
			case 401:
				e.rejected.Add(1)
				return
			}
		}
		e.sleep(time.Duration(200+rand.IntN(300)) * time.Millisecond)
	}
}

func (e *e2e) sleep(d time.Duration) {
	select {
	case <-e.ctx.Done():
	case <-time.After(d):
	}
}

// outstanding counts the reward keys of accepted webhooks that Resonance
// has neither paid nor rejected yet: what is queued or in flight.
func (e *e2e) outstanding() int {
	e.mu.Lock()
	hooks := e.hooks
	e.mu.Unlock()
	seen := map[string]bool{}
	for _, h := range hooks {
		if h.accepted.Load() {
			seen[h.key] = true
		}
	}
	n := 0
	e.res.mu.Lock()
	for k := range seen {
		if e.res.awards[k] == 0 && e.res.rejected[k] == 0 && !e.res.unknown[k] { // unknown: parked, waits for the operator
			n++
		}
	}
	e.res.mu.Unlock()
	return n
}

// deliver sends every hook with 16 senders; one in five is delivered a
// second time, half of those at the same moment as the first. Senders wait
// while more than e.window accepted webhooks are still unpaid, so that the
// queue the emulated SQS scans on every call stays short: the pace follows
// the pipeline's progress, whatever the machine's speed.
func (e *e2e) deliver(hooks []*hook, during func(sent int)) {
	e.mu.Lock()
	e.hooks = append(e.hooks, hooks...)
	e.mu.Unlock()
	type job struct {
		h    *hook
		twin bool
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	var sent atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				for e.ctx.Err() == nil && e.outstanding() >= e.window {
					e.sleep(50 * time.Millisecond)
				}
				if j.twin {
					var twin sync.WaitGroup
					twin.Add(1)
					go func() { defer twin.Done(); e.send(j.h) }()
					e.send(j.h)
					twin.Wait()
				} else {
					e.send(j.h)
				}
				if during != nil {
					during(int(sent.Add(1)))
				}
			}
		}()
	}
	var later []*hook
	for i, h := range hooks {
		if e.ctx.Err() != nil {
			break
		}
		switch {
		case i%10 == 3:
			jobs <- job{h, true}
		case i%10 == 7:
			later = append(later, h)
			jobs <- job{h, false}
		default:
			jobs <- job{h, false}
		}
	}
	for _, h := range later {
		if e.ctx.Err() != nil {
			break
		}
		jobs <- job{h, false}
	}
	close(jobs)
	wg.Wait()
}

// poll runs the forwarder's event source mapping with two workers until ctx
// ends, calling whatever handler is current.
func (e *e2e) poll(ctx context.Context, ps *PollerSet) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := *ps.Poller
			p.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				return (*e.handler.Load())(ctx, ev)
			}
			for ctx.Err() == nil {
				if _, _, err := p.Once(ctx); err != nil && ctx.Err() == nil {
					time.Sleep(200 * time.Millisecond)
				}
			}
		}()
	}
	return &wg
}

// until waits for cond, checked every 200 ms, and ends the test with the
// report if the watchdog gives up first.
func (e *e2e) until(cond func() bool) {
	e.t.Helper()
	for !cond() {
		if e.ctx.Err() != nil {
			e.fail()
		}
		e.sleep(200 * time.Millisecond)
	}
}

// settled reports whether every key of hooks is paid or rejected for good
// and the events queue is empty.
func (e *e2e) settled(hooks []*hook) bool {
	awards, _ := e.res.snapshot()
	unknown := e.res.unknownKeys()
	for _, h := range hooks {
		if awards[h.key] == 0 && !rejectsForGood(h.key) && !unknown[h.key] {
			return false
		}
	}
	q, err := e.queue("EventsQueue")
	return err == nil && q.total() == 0
}

// queueState is an SQS queue's approximate counts.
type queueState struct{ visible, inFlight, delayed int }

func (q queueState) total() int { return q.visible + q.inFlight + q.delayed }

// callLimit bounds each of the test's own calls to moto, so that a hung
// moto cannot hang the watchdog (it then sees no progress and reports).
const callLimit = 10 * time.Second

func (e *e2e) queue(id string) (queueState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callLimit)
	defer cancel()
	out, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(e.stack.Resolver.Refs[id]), AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed},
	})
	if err != nil {
		return queueState{}, err
	}
	a, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	b, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	c, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesDelayed"])
	return queueState{a, b, c}, nil
}

// progress is everything that moves when the pipeline does.
type progress struct {
	attempts, accepted, calls, paid, rejected, kills int64
	events, dlq                                      queueState
	unreachable                                      bool // moto did not answer within callLimit
}

func (e *e2e) progress() progress {
	e.mu.Lock()
	hooks := e.hooks
	e.mu.Unlock()
	p := progress{attempts: e.attempts.Load(), calls: e.res.calls.Load(), kills: e.crashes.Load()}
	for _, h := range hooks {
		if h.accepted.Load() {
			p.accepted++
		}
	}
	e.res.mu.Lock()
	p.paid, p.rejected = int64(len(e.res.awards)), int64(len(e.res.rejected))
	e.res.mu.Unlock()
	var err1, err2 error
	p.events, err1 = e.queue("EventsQueue")
	p.dlq, err2 = e.queue("DeadLetterQueue")
	p.unreachable = err1 != nil || err2 != nil
	return p
}

// watch prints a progress line every interval and aborts the test when
// nothing has moved for stall, or at deadline (zero: none).
func (e *e2e) watch(done <-chan struct{}, every, stall time.Duration, deadline time.Time) {
	last, moved := e.progress(), time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		p := e.progress()
		e.mu.Lock()
		phase, sent := e.phase, len(e.hooks)
		e.mu.Unlock()
		queue := fmt.Sprintf("queue %d visible, %d in flight, %d delayed", p.events.visible, p.events.inFlight, p.events.delayed)
		if p.unreachable {
			queue = "queue: SQS (moto) did not answer in " + callLimit.String()
		}
		fmt.Fprintf(e.console, "e2e: %6s %-26s webhooks %d, accepted %d (%d deliveries) | %s | paid %d, rejected %d, DLQ %d | %d Resonance calls, %d kills | moto %s\n",
			e.elapsed(), phase, sent, p.accepted, p.attempts, queue, p.paid, p.rejected, p.dlq.total(), p.calls, p.kills, e.motoCPU())
		now := time.Now()
		if p != last {
			last, moved = p, now
		}
		switch {
		case now.Sub(moved) >= stall:
			e.abort(fmt.Errorf("nothing moved for %s (E2E_STALL)", stall))
			return
		case !deadline.IsZero() && now.After(deadline):
			e.abort(errors.New("go test's -timeout is near"))
			return
		}
	}
}

// fail ends the test with where every webhook is.
func (e *e2e) fail() {
	e.t.Helper()
	e.mu.Lock()
	hooks, phase := e.hooks, e.phase
	e.mu.Unlock()
	awards, _ := e.res.snapshot()
	unknown := e.res.unknownKeys()
	parked := e.dlq()
	type count struct{ notAccepted, waiting, paid, rejected, parked int }
	byProvider := map[string]*count{}
	var stuck []string
	seen := map[string]bool{}
	for _, h := range hooks {
		c := byProvider[h.provider]
		if c == nil {
			c = &count{}
			byProvider[h.provider] = c
		}
		switch {
		case !h.accepted.Load():
			c.notAccepted++
			if len(stuck) < 10 {
				stuck = append(stuck, h.key+" (never answered 200)")
			}
		case seen[h.key]:
			// the second event of a payment: counted with the first
		case awards[h.key] > 0:
			c.paid++
		case len(parked[h.key]) > 0:
			c.parked++
			if !rejectsForGood(h.key) && !unknown[h.key] && len(stuck) < 10 {
				// Parked, and Resonance never left its outcome unknown.
				stuck = append(stuck, h.key+" (parked: "+strings.Join(e.details[h.key], "; ")+")")
			}
		case rejectsForGood(h.key):
			c.rejected++
			if len(stuck) < 10 {
				stuck = append(stuck, h.key+" (rejected by Resonance, not in the DLQ)")
			}
		default:
			c.waiting++
			if len(stuck) < 10 {
				stuck = append(stuck, h.key+" (accepted, not paid)")
			}
		}
		seen[h.key] = true
	}
	events, _ := e.queue("EventsQueue")
	var b strings.Builder
	fmt.Fprintf(&b, "e2e: stopped in %q after %s: %v\n", phase, e.elapsed(), context.Cause(e.ctx))
	fmt.Fprintf(&b, "e2e: events queue: %d visible (queued), %d in flight, %d delayed (retry backoff); Resonance calls %d, forwarder kills %d\n",
		events.visible, events.inFlight, events.delayed, e.res.calls.Load(), e.crashes.Load())
	fmt.Fprintf(&b, "e2e: %-10s %12s %20s %6s %22s %7s\n", "provider", "not accepted", "accepted, not paid", "paid", "rejected, not parked", "parked")
	for _, p := range samples.Names() {
		if c := byProvider[p]; c != nil {
			fmt.Fprintf(&b, "e2e: %-10s %12d %20d %6d %22d %7d\n", p, c.notAccepted, c.waiting, c.paid, c.rejected, c.parked)
		}
	}
	for _, s := range stuck {
		fmt.Fprintf(&b, "e2e:   %s\n", s)
	}
	fmt.Fprint(e.console, b.String())
	e.t.Fatalf("%s", b.String())
}

// motoCPU is the CPU time the moto servers have used so far.
func (e *e2e) motoCPU() string {
	d, ok := motoserver.CPUTime(e.stack.Motos...)
	if !ok {
		return "cpu n/a"
	}
	return "cpu " + d.Round(100*time.Millisecond).String()
}

// dlq drains the dead-letter queue: reward key -> reasons.
func (e *e2e) dlq() map[string][]string {
	out := map[string][]string{}
	empty := 0
	for empty < 2 {
		ctx, cancel := context.WithTimeout(context.Background(), callLimit)
		r, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(e.stack.Resolver.Refs["DeadLetterQueue"]), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}, VisibilityTimeout: 600,
		})
		cancel()
		if err != nil {
			e.t.Errorf("read the DLQ: %v", err)
			return out
		}
		if len(r.Messages) == 0 {
			empty++
		}
		for _, m := range r.Messages {
			key := aws.ToString(m.MessageAttributes["reward_key"].StringValue)
			reason := aws.ToString(m.MessageAttributes["reason"].StringValue)
			out[key] = append(out[key], reason)
			if e.details == nil {
				e.details = map[string][]string{}
			}
			detail := reason + ": " + aws.ToString(m.MessageAttributes["detail"].StringValue)
			e.details[key] = append(e.details[key], detail[:min(len(detail), 200)])
		}
	}
	return out
}

// ambiguousHooks returns n custom bodies whose top level says "type" twice
// (signup, then purchase as "Type"), and n Stripe charges whose object says
// "amount" twice (as "Amount", far larger): genuine signatures, ambiguous
// bodies, each with a key no other hook earns.
func ambiguousHooks(n int) []*hook {
	var out []*hook
	for i := range n {
		id := fmt.Sprintf("amb%05d", i)
		out = append(out,
			&hook{provider: "custom", headers: map[string]string{"content-type": "application/json", "webhook-id": "msg_" + id},
				body: []byte(`{"id":"cu` + id + `","type":"signup","customerEmail":"x` + id + `@example.com","data":{},"Type":"purchase"}`)},
			&hook{provider: "stripe", headers: map[string]string{"content-type": "application/json"},
				body: []byte(`{"id":"evt_` + id + `","type":"charge.succeeded","livemode":true,"data":{"object":{"id":"ch_` + id + `","object":"charge","payment_intent":"pi_` + id +
					`","captured":true,"amount":100,"currency":"usd","billing_details":{"email":"x` + id + `@example.com"},"Amount":99999900}}}`)},
		)
	}
	return out
}

// forgeEnvelopes returns n of each kind of envelope someone who can write to
// the events queue, but is not the relay, could send: unsigned, signed with
// a guessed key, and signed with the relay's key and then edited. Each is a
// paid Shopify order nobody placed (order ids no hook uses).
func forgeEnvelopes(t *testing.T, n int) []string {
	t.Helper()
	key, err := EnvelopeKey("../../../events/local-secrets.json")
	if err != nil {
		t.Fatal(err)
	}
	order := func(i int) []byte {
		return []byte(fmt.Sprintf(`{"id":%d,"admin_graphql_api_id":"gid://shopify/Order/%d","email":"forger@example.com","financial_status":"paid","created_at":%q,"total_price":"999.00","currency":"USD","line_items":[]}`,
			6_000_000_000+i, 6_000_000_000+i, time.Now().UTC().Format(time.RFC3339)))
	}
	var out []string
	for i := range n {
		for kind := range 3 {
			env := &envelope.Envelope{Version: envelope.Version, Provider: "shopify", EventType: "orders/paid", DeliveryID: fmt.Sprintf("forged-%d-%d", kind, i),
				ReceivedAt: time.Now().UTC(), Body: order(10*i + kind)}
			switch kind {
			case 1:
				_ = envelope.Sign(env, []byte("a-guessed-key-that-is-long-enough-0123"))
			case 2:
				_ = envelope.Sign(env, key)
				env.Body = order(10*i + kind + 5) // edited after signing
			}
			out = append(out, envelope.Encode(env))
		}
	}
	return out
}

// failingCompletion loses every COMPLETED write of one reward key in a
// hundred (DynamoDB throttled, say): Resonance has paid them, the relay
// cannot record it. Later deliveries of those keys must be parked as
// outcome_unknown, never paid again, and resolved as paid by the operator.
type failingCompletion struct {
	idempotency.Store
	keys sync.Map         // the keys whose COMPLETED was lost
	res  *faultyResonance // told of the outcomes the relay itself finds unknown
}

// Claim is the store's; a claim the relay finds of unknown outcome (an
// earlier claim whose lease ended with nothing recorded: on a loaded
// machine, a batch that overran its invocation's deadline) is an unknown
// outcome like those the stub makes, parked for the operator rounds to
// resolve, not a reward the run waits for.
func (f *failingCompletion) Claim(ctx context.Context, c idempotency.Claim) (idempotency.Outcome, *idempotency.Record, error) {
	o, r, err := f.Store.Claim(ctx, c)
	if err == nil && o == idempotency.OutcomeUnknown && f.res != nil {
		f.res.markUnknown(c.Key)
	}
	return o, r, err
}

func (f *failingCompletion) lost() int {
	n := 0
	f.keys.Range(func(any, any) bool { n++; return true })
	return n
}

func (f *failingCompletion) Complete(ctx context.Context, r idempotency.Record) error {
	h := fnv.New32a()
	h.Write([]byte(r.Key))
	if h.Sum32()%100 == 7 {
		f.keys.Store(r.Key, true)
		return errors.New("ProvisionedThroughputExceededException (injected)")
	}
	return f.Store.Complete(ctx, r)
}

// crashing wraps the forwarder so that an invocation dies before every
// every-th Resonance call (counted across invocations, so the kills are
// certain, not a matter of luck on a slow machine): from then on nothing it
// does reaches Resonance or DynamoDB (no release, no completion), and it
// reports nothing to SQS, so its whole batch comes back. Claims it took stay
// INPROGRESS until their lease ends.
func crashing(fw *forward.Forwarder, every int64, crashes *atomic.Int64, res *faultyResonance) sqspoll.Handler {
	calls := &atomic.Int64{}
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		dead := &atomic.Bool{}
		f := *fw
		f.Resonance = &dyingSender{next: fw.Resonance, dead: dead, calls: calls, every: every, res: res}
		f.Store = &dyingStore{next: fw.Store, dead: dead}
		resp, err := f.Handle(ctx, ev)
		if dead.Load() {
			crashes.Add(1)
			return events.SQSEventResponse{}, errors.New("forwarder killed mid-batch")
		}
		return resp, err
	}
}

type dyingSender struct {
	next  forward.Sender
	dead  *atomic.Bool
	calls *atomic.Int64
	every int64
	res   *faultyResonance
}

// Send dies on every every-th call: on odd kills before the request leaves,
// on even ones after Resonance had it (and perhaps paid). Either way the
// claim it holds is left without an outcome.
func (d *dyingSender) Send(ctx context.Context, key string, body []byte) (*resonance.Response, error) {
	if d.dead.Load() { // a call of the batch after the kill: claimed, never made
		d.res.markUnknown(key)
		return nil, errors.New("dead")
	}
	n := d.calls.Add(1)
	if n%d.every != 0 {
		return d.next.Send(ctx, key, body)
	}
	d.res.markUnknown(key)
	if (n/d.every)%2 == 0 {
		_, _ = d.next.Send(ctx, key, body)
	}
	d.dead.Store(true)
	return nil, errors.New("dead")
}

type dyingStore struct {
	next idempotency.Store
	dead *atomic.Bool
}

func (d *dyingStore) Claim(ctx context.Context, c idempotency.Claim) (idempotency.Outcome, *idempotency.Record, error) {
	if d.dead.Load() {
		return 0, nil, errors.New("dead")
	}
	return d.next.Claim(ctx, c)
}

func (d *dyingStore) Complete(ctx context.Context, r idempotency.Record) error {
	if d.dead.Load() {
		return nil // the process is gone: nothing is written
	}
	return d.next.Complete(ctx, r)
}

func (d *dyingStore) Release(ctx context.Context, r idempotency.Record) error {
	if d.dead.Load() {
		return nil
	}
	return d.next.Release(ctx, r)
}

func (d *dyingStore) Unknown(ctx context.Context, r idempotency.Record) error {
	if d.dead.Load() {
		return nil
	}
	return d.next.Unknown(ctx, r)
}

// TestE2E: webhooks from all five providers through the local HTTP front,
// SQS and DynamoDB (moto) and the forwarder into a faulty Resonance. Run A
// injects Resonance faults; run B also kills the forwarder mid-batch; run C
// stops moto under the ingest front. From the stub's own record: every
// reward that should be paid is paid exactly once, the DLQ holds exactly
// the permanently rejected ones, nothing answered 200 is lost.
//
// It has no time limit of its own: it ends when nothing has moved for
// E2E_STALL (default 3m), or a minute before go test's -timeout, with a
// report of where every webhook is. It prints progress every E2E_EVERY
// (default 5s). The handlers' JSON logs go to E2E_LOG (default a file of
// its own in $TMPDIR, kept when the test fails).
func TestE2E(t *testing.T) {
	stall, err1 := runtime.Duration("E2E_STALL", 3*time.Minute)
	every, err2 := runtime.Duration("E2E_EVERY", 5*time.Second)
	window, err3 := runtime.Int("E2E_WINDOW", 40)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	var logs *os.File
	var err error
	if path := os.Getenv("E2E_LOG"); path != "" {
		logs, err = os.Create(path)
	} else {
		// One file per run, kept only when the test fails.
		logs, err = os.CreateTemp("", "resonance-relay-e2e-*.log")
		defer func() {
			if !t.Failed() {
				_ = os.Remove(logs.Name())
			}
		}()
	}
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	logPath := logs.Name()
	// The handlers log to stdout, as in Lambda: here, to the log file, so
	// that the console shows the progress lines.
	console := os.Stdout
	os.Stdout = logs
	defer func() { os.Stdout = console }()

	start := time.Now()
	res := &faultyResonance{awards: map[string]int{}, rejected: map[string]int{}, resends: map[string]int{}, unknown: map[string]bool{}, rng: rand.New(rand.NewPCG(1, 2))}
	rsrv := httptest.NewServer(res)
	defer rsrv.Close()
	// Provisioning has no progress to watch: it gets the stall time whole.
	prep, cancelPrep := context.WithTimeout(context.Background(), stall)
	defer cancelPrep()
	stack, err := Prepare(prep, Config{
		Template: "../../../template.yaml", LocalFile: "../../../events/local-secrets.json", ResonanceURL: rsrv.URL, Out: io.Discard,
		// The events queue's visibility is twice the forwarder's time-out
		// (the template has 6x), so a slow batch is never handed out twice,
		// and a killed one comes back after 10 s.
		Options: Options{Prefix: "e2e", VisibilityTimeout: 10},
	})
	if err != nil {
		t.Fatalf("the local stack could not be provisioned (within E2E_STALL, %s): %v", stall, err)
	}
	defer stack.Close()
	// Faster backoff than production's for a bounded test; everything else
	// is the template's.
	fast := map[string]string{"BACKOFF_BASE": "1s", "BACKOFF_MAX": "3s", "RESONANCE_TIMEOUT": "1s", "AWS_LAMBDA_LOG_LEVEL": "WARN"}
	if err := stack.build(fast); err != nil {
		t.Fatal(err)
	}
	lf, _ := LoadLocalFile("../../../events/local-secrets.json")
	ws, err := lf.WebhookSecrets()
	if err != nil {
		t.Fatal(err)
	}
	stack.Front.FunctionURLEvery = 2 // half the requests in a function URL's event shape (Front=FunctionUrl)
	e := &e2e{t: t, stack: stack, front: httptest.NewServer(stack.Front), secrets: ws, res: res, console: console, window: window,
		sqs: sqs.NewFromConfig(stack.Endpoints.Config(motoserver.SQS)), start: start}
	defer e.front.Close()
	e.ctx, e.abort = context.WithCancelCause(context.Background())
	defer e.abort(nil)
	fmt.Fprintf(console, "e2e: moto %+v, handlers' logs in %s; progress every %s, gives up after %s without progress\n", stack.Endpoints, logPath, every, stall)

	fwFunc, _ := stack.Function("ForwarderFunction")
	var fw *forward.Forwarder
	if err := withEnv(mergeMaps(fwFunc.Env, fast), func() (err error) {
		fw, err = forward.FromEnv()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	atomicOnMoto(fw) // as the stack's own forwarder: moto's conditional writes are not atomic
	lostCompletions := &failingCompletion{Store: fw.Store, res: res}
	fw.Store = lostCompletions
	ps := stack.Pollers[0]
	ps.Poller.Timeout = 5 * time.Second // the invocation's deadline, and so the claims' lease
	normal := sqspoll.Handler(fw.Handle)
	e.handler.Store(&normal)
	ctx, cancel := context.WithCancel(context.Background())
	pollers := e.poll(ctx, ps)
	defer func() { cancel(); pollers.Wait() }()

	var deadline time.Time
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-time.Minute)
	}
	watching := make(chan struct{})
	go e.watch(watching, every, stall, deadline)
	defer close(watching)
	// make e2e passes its own pid: killed, even with SIGKILL, it cannot
	// stop this process, so this process stops itself.
	if owner, _ := strconv.Atoi(os.Getenv("E2E_OWNER")); owner > 1 {
		go func() {
			for motoserver.Alive(owner) {
				select {
				case <-watching:
					return
				case <-time.After(500 * time.Millisecond):
				}
			}
			e.abort(fmt.Errorf("make (pid %d), which started this test, is gone", owner))
		}()
	}

	var all []*hook
	totalSiblings := 0
	run := func(name string, hooks []*hook, siblings int, during func(int)) {
		all = append(all, hooks...)
		totalSiblings += siblings
		e.setPhase(name + ": delivering")
		e.deliver(hooks, during)
		if e.ctx.Err() != nil {
			e.fail()
		}
	}
	settle := func(name string, hooks []*hook) {
		e.setPhase(name + ": settling")
		e.until(func() bool { return e.settled(hooks) })
	}

	// Run A: Resonance faults only.
	hooksA, sibA := makeHooks("a", 180)
	ingestStart := time.Now()
	run("run A", hooksA, sibA, nil)
	ingestTook := time.Since(ingestStart)
	settle("run A", hooksA)
	runATook := time.Since(ingestStart)
	if _, resends := res.snapshot(); len(resends) != 0 {
		t.Fatalf("without crashes the relay re-sent %d paid rewards", len(resends))
	}

	// Run B: the forwarder is killed mid-batch (during every 25th call) until
	// it has died three times, and then restarted.
	crashy := crashing(fw, 25, &e.crashes, res)
	e.handler.Store(&crashy)
	hooksB, sibB := makeHooks("b", 40)
	run("run B", hooksB, sibB, nil)
	e.setPhase("run B: killing")
	e.until(func() bool {
		if e.crashes.Load() >= 3 {
			return true
		}
		if e.settled(hooksB) {
			t.Fatalf("run B settled with %d forwarder kills, want 3", e.crashes.Load())
		}
		return false
	})
	e.handler.Store(&normal) // restarted
	settle("run B", hooksB)

	// Run C: moto stops under the ingest front for 3 s.
	hooksC, sibC := makeHooks("c", 40)
	var paused atomic.Bool
	run("run C", hooksC, sibC, func(sent int) {
		if sent == 60 && paused.CompareAndSwap(false, true) {
			_ = stack.Moto.Pause()
			time.AfterFunc(3*time.Second, func() { _ = stack.Moto.Resume() })
		}
	})
	settle("run C", hooksC)

	// The operator: every reward parked as outcome_unknown is looked up in
	// Resonance's own record (here, the stub's) and resolved with the DLQ
	// tool: as paid when Resonance paid it, else re-sent once with the same
	// Idempotency-Key. A re-sent reward can meet another fault, so rounds
	// go on until none is left.
	refs := stack.Resolver.Refs
	tool := &dlq.Tool{SQS: e.sqs, DLQ: refs["DeadLetterQueue"], Events: refs["EventsQueue"], Hold: 30 * time.Second,
		Rewards: &idempotency.DynamoDB{Table: refs["IdempotencyTable"],
			Client: &motoserver.AtomicDynamoDB{Client: dynamodb.NewFromConfig(stack.Endpoints.Config(motoserver.DynamoDB))}}}
	unknownKeys := map[string]bool{}
	resolvedPaid, resolvedResent := 0, 0
	for round := 1; ; round++ {
		e.setPhase(fmt.Sprintf("operator: resolving outcome_unknown, round %d", round))
		msgs, err := tool.Read(e.ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		unknownMsgs, rest := dlq.Select(msgs, nil, forward.ReasonOutcomeUnknown, false)
		if err := tool.Release(e.ctx, rest); err != nil {
			t.Fatal(err)
		}
		if len(unknownMsgs) == 0 {
			break
		}
		if round > 10 {
			t.Fatalf("%d rewards still of unknown outcome after 10 rounds", len(unknownMsgs))
		}
		awards, _ := res.snapshot()
		var paidMsgs, resendMsgs []dlq.Message
		for _, m := range unknownMsgs {
			unknownKeys[m.Attrs["reward_key"]] = true
			if awards[m.Attrs["reward_key"]] > 0 {
				paidMsgs = append(paidMsgs, m)
			} else {
				resendMsgs = append(resendMsgs, m)
			}
		}
		paidRes, err := tool.Resolve(e.ctx, paidMsgs, idempotency.ResolvedPaid, "e2e")
		if err != nil {
			t.Fatal(err)
		}
		res.forget(resendMsgs) // before: a re-sent one can meet a fault at once
		resent, err := tool.Resolve(e.ctx, resendMsgs, idempotency.ResolvedResend, "e2e")
		if err != nil {
			t.Fatal(err)
		}
		resolvedPaid, resolvedResent = resolvedPaid+len(paidRes), resolvedResent+len(resent)
		for _, r := range append(paidRes, resent...) {
			if r.Outcome != "recorded paid" && r.Outcome != "re-sent" {
				t.Errorf("resolve %s: %s", r.Key, r.Outcome)
			}
		}
		e.setPhase(fmt.Sprintf("operator: %d recorded paid, %d re-sent: settling", len(paidRes), len(resent)))
		e.until(func() bool { return e.settled(all) })
	}

	// Replays: captured deliveries of run A re-sent with altered unsigned
	// headers, once everything is paid. They must all be answered 200 (the
	// test pins no shop) and earn nothing.
	replays, wantTopicMismatch, wantEventMismatch := makeReplays(hooksA, 20)
	paidBefore, resendsBefore := res.snapshot()
	callsBefore := res.calls.Load()
	e.setPhase("replays: delivering")
	var replaying sync.WaitGroup
	next := make(chan *hook)
	for range 8 {
		replaying.Add(1)
		go func() {
			defer replaying.Done()
			for h := range next {
				e.send(h)
			}
		}()
	}
	for _, h := range replays {
		next <- h
	}
	close(next)
	replaying.Wait()
	e.setPhase("replays: settling")
	e.until(func() bool { q, err := e.queue("EventsQueue"); return err == nil && q.total() == 0 })

	// Writers that are not the relay: someone allowed to send to the
	// events queue forges envelopes for orders nobody placed (unsigned,
	// signed with a guessed key, and genuine ones whose body was changed
	// after signing). Each must be parked envelope_unverified, unpaid.
	e.setPhase("forged envelopes: sending")
	forgeries := forgeEnvelopes(t, 5)
	callsBeforeForgeries := res.calls.Load()
	for _, body := range forgeries {
		if _, err := e.sqs.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(refs["EventsQueue"]), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	e.setPhase("forged envelopes: settling")
	e.until(func() bool { q, err := e.queue("EventsQueue"); return err == nil && q.total() == 0 })
	forgedCalls := res.calls.Load() - callsBeforeForgeries

	// Bodies two readings could read differently: one object with two keys
	// that are one key to encoding/json. Ingest parks the top-level ones,
	// the forwarder the nested ones; none reaches Resonance.
	e.setPhase("ambiguous bodies: delivering")
	ambiguous := ambiguousHooks(5)
	for _, h := range ambiguous {
		e.send(h)
		if !h.accepted.Load() {
			t.Errorf("ambiguous %s body was not answered 200", h.provider)
		}
	}
	e.setPhase("ambiguous bodies: settling")
	e.until(func() bool { q, err := e.queue("EventsQueue"); return err == nil && q.total() == 0 })
	forgedCalls = res.calls.Load() - callsBeforeForgeries

	e.setPhase("checking")
	time.Sleep(4 * time.Second) // anything still to come would show now
	cancel()
	pollers.Wait()

	awards, resends := res.snapshot()
	moneyStart := time.Now()
	mr := e.money(stack, ps, res, fast)
	moneyTook := time.Since(moneyStart)
	parked := e.dlq()
	allKeys := map[string]bool{}
	totalAccepted := 0
	for _, h := range all {
		allKeys[h.key] = true
		if h.accepted.Load() {
			totalAccepted++
		} else {
			t.Errorf("%s was never answered 200", h.key)
		}
	}
	ignored := 0
	for _, h := range all {
		if h.ignored.Load() {
			ignored++
		}
		if h.accepted.Load() && h.ignored.Load() != h.ignore {
			t.Errorf("%s (%s): ingest answered ignored=%v, want %v", h.key, h.body[:40], h.ignored.Load(), h.ignore)
		}
	}
	forwarded, duplicated, lost, parkedKeys := 0, 0, 0, 0
	for k := range allKeys {
		switch {
		case awards[k] == 1:
			forwarded++
		case awards[k] > 1:
			duplicated++
		case rejectsForGood(k):
			if len(parked[k]) == 0 {
				t.Errorf("rejected key %s is not in the DLQ", k)
				lost++
			} else {
				parkedKeys++
			}
		default:
			lost++
			t.Errorf("reward %s was never paid", k)
		}
	}
	replayParks := map[string]int{}
	for _, r := range parked[""] { // mapping and ingest parks carry no reward key
		replayParks[r]++
	}
	delete(parked, "")
	if replayParks["topic_mismatch"] != wantTopicMismatch || replayParks["event_mismatch"] != wantEventMismatch ||
		replayParks[forward.ReasonEnvelopeUnverified] != len(forgeries) || replayParks[mapping.ReasonAmbiguousPayload] != len(ambiguous) || len(replayParks) > 4 {
		t.Errorf("DLQ holds %v without a reward key; want %d topic_mismatch (Shopify orders replayed as customers/create), %d event_mismatch (Zupy), %d envelope_unverified (forged) and %d ambiguous_payload",
			replayParks, wantTopicMismatch, wantEventMismatch, len(forgeries), len(ambiguous))
	}
	if forgedCalls != 0 {
		t.Errorf("Resonance was called %d times while forged envelopes and ambiguous bodies were on the queue", forgedCalls)
	}
	replayAccepted, newRewards := 0, 0
	for _, h := range replays {
		if h.accepted.Load() {
			replayAccepted++
		}
	}
	for k, n := range awards {
		newRewards += n - paidBefore[k]
	}
	replayResends := 0
	for k, n := range resends {
		replayResends += n - resendsBefore[k]
	}
	if newRewards != 0 || replayAccepted != len(replays) {
		t.Errorf("%d replays with altered unsigned headers: %d answered 200, %d new rewards; want all answered and none", len(replays), replayAccepted, newRewards)
	}
	for k, reasons := range parked {
		if !rejectsForGood(k) {
			t.Errorf("DLQ holds %s (%v), which Resonance never rejected for good", k, reasons)
		}
		for _, r := range reasons {
			if r != "resonance_rejected" {
				t.Errorf("DLQ message for %s has reason %q", k, r)
			}
		}
	}
	for k := range awards {
		if !allKeys[k] {
			t.Errorf("paid %s, which no webhook earned", k)
		}
	}
	skipped := totalAccepted - forwarded - parkedKeys
	if skipped != totalSiblings {
		t.Errorf("accepted %d != forwarded %d + parked %d + skipped %d (second events of one payment: %d)", totalAccepted, forwarded, parkedKeys, skipped, totalSiblings)
	}
	if e.rejected.Load() != 0 {
		t.Errorf("%d genuine deliveries were refused with 401", e.rejected.Load())
	}
	resent := 0
	for _, n := range resends {
		resent += n
	}
	took := time.Since(start)
	if resent != 0 {
		t.Errorf("the relay re-sent %d paid rewards (answered 409 by the stub)", resent)
	}
	summary := fmt.Sprintf("e2e: %d sent, %d accepted, %d forwarded once, %d parked, %d lost, %d duplicated; %d replays with altered unsigned headers, %d new rewards",
		len(all), totalAccepted, forwarded, parkedKeys, lost, duplicated, len(replays), newRewards)
	fmt.Fprintln(console, summary)
	moneyLine := fmt.Sprintf("e2e: money: %d orders: %d held, %d paid once when their window closed (%d on less after a partial refund), %d voided by a refund, cancellation or dispute (%d that came before the purchase), %d refunded after payment, %d rule-skipped (cap of 3), %d lost, %d duplicated, in %s",
		mr.orders, mr.held, mr.paid, mr.reduced, mr.voided, mr.voidedBefore, mr.refundedAfter, mr.capped, mr.lost, mr.duplicated, moneyTook.Round(time.Second))
	fmt.Fprintln(console, moneyLine)
	summary += "\n" + moneyLine
	fmt.Fprintf(console, "e2e: %d rewards parked as outcome_unknown (Resonance 500, 504 or a late answer, a 2xx that is no payment, a forwarder killed mid-call, a COMPLETED write lost for good: %d paid rewards), none paid blindly: the operator recorded %d as paid and re-sent %d, over the rounds\n",
		len(unknownKeys), lostCompletions.lost(), resolvedPaid, resolvedResent)
	fmt.Fprintf(console, "e2e: %d forged envelopes written to the events queue (unsigned, signed with a guessed key, genuine but edited): %d parked envelope_unverified; %d ambiguous bodies (custom type/Type, Stripe amount/Amount nested): %d parked ambiguous_payload; %d Resonance calls\n",
		len(forgeries), replayParks[forward.ReasonEnvelopeUnverified], len(ambiguous), replayParks[mapping.ReasonAmbiguousPayload], forgedCalls)
	fmt.Fprintf(console, "e2e: replays: %d Shopify orders under another shop with new event and webhook ids (recognised as paid), %d as customers/create (parked topic_mismatch), %d Zupy purchases with X-Zupy-Event: customer.registered (parked event_mismatch at ingest); %d Resonance calls and %d re-sends during them\n",
		len(replays)-wantTopicMismatch-wantEventMismatch, replayParks["topic_mismatch"], replayParks["event_mismatch"], res.calls.Load()-callsBefore, replayResends)
	if n := stack.Front.FunctionURLs.Load(); n == 0 {
		t.Error("no request reached ingest in a function URL's event shape")
	} else {
		fmt.Fprintf(console, "e2e: fronts: %d requests in a Lambda function URL's event shape (no routes, no path parameters), the rest in the HTTP API's\n", n)
	}
	fmt.Fprintf(console, "e2e: %d deliveries (duplicates and retries included), %d skipped as second events of a payment (%d of them ignored by ingest, outside the default event set), %d Resonance calls, %d forwarder kills, %d re-sends after a kill answered 409 by Resonance\n",
		e.attempts.Load(), skipped, ignored, res.calls.Load(), e.crashes.Load(), resent)
	cpu := "n/a"
	if d, ok := motoserver.CPUTime(stack.Motos...); ok {
		cpu = fmt.Sprintf("%.1f ms per webhook (%s in all)", float64(d.Milliseconds())/float64(len(all)), d.Round(100*time.Millisecond))
	}
	fmt.Fprintf(console, "e2e: run A %d webhooks ingested in %s (%.0f/s), all settled in %s; whole test %s; moto CPU %s\n",
		len(hooksA), ingestTook.Round(time.Millisecond), float64(len(hooksA))/ingestTook.Seconds(), runATook.Round(time.Millisecond), took.Round(time.Second), cpu)
	if out := os.Getenv("E2E_SUMMARY"); out != "" {
		_ = os.WriteFile(out, []byte(summary+"\n"), 0o644)
	}
}
