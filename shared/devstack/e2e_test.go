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
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/forward"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/sqspoll"
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
	calls    atomic.Int64
	rng      *rand.Rand
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
	case roll < 10:
		s.mu.Unlock()
		w.WriteHeader(500)
		return
	case roll < 15:
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(429)
		return
	case roll < 17:
		s.mu.Unlock()
		time.Sleep(1500 * time.Millisecond) // past RESONANCE_TIMEOUT: the relay gives up first
		w.WriteHeader(504)
		return
	}
	s.awards[key]++
	s.mu.Unlock()
	_, _ = io.WriteString(w, `{"success":true,"rewardAmount":10,"txHash":"0x1"}`)
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

// hook is one webhook to deliver, with the reward key it must earn.
type hook struct {
	provider string
	body     []byte
	headers  map[string]string
	key      string
}

// makeHooks builds n webhooks per provider tagged run; Stripe's are n/2
// payments each delivered as a checkout session and a payment intent.
func makeHooks(run string, n int) (hooks []hook, keys map[string]bool, siblings int) {
	keys = map[string]bool{}
	shop := "e2e.myshopify.com"
	for i := range n {
		id := fmt.Sprintf("%s%05d", run, i)
		email := fmt.Sprintf("c%s@example.com", id)
		offset := map[string]int{"a": 100_000, "b": 200_000, "c": 300_000}[run]
		num := strconv.Itoa(7_000_000_000_000_000_000 + offset + i) // beyond 2^53
		hooks = append(hooks,
			hook{"shopify", []byte(`{"id":` + num + `,"email":"` + email + `","total_price":"12.50","currency":"USD","line_items":[{"quantity":1}]}`),
				map[string]string{"x-shopify-topic": "orders/paid", "x-shopify-shop-domain": shop, "x-shopify-event-id": "ev-" + id, "content-type": "application/json"},
				"shopify:" + shop + ":order:" + num},
			hook{"zupy", []byte(`{"event":"points.earned","customer":{"member_id":"m` + id + `","email":"` + email + `"},"transaction":{"transaction_id":"tx` + id + `","order_value":10.5}}`),
				map[string]string{"x-zupy-event": "points.earned", "content-type": "application/json"}, "zupy:transaction:tx" + id},
			hook{"loyaltynow", []byte(`{"hook":"transaction.confirmed","data":{"transactionId":"ln` + id + `","email":"` + email + `","amount":7,"currency":"AUD"},"sequence":` + strconv.Itoa(offset+i) + `}`),
				map[string]string{"content-type": "application/json"}, "loyaltynow:transaction:ln" + id},
			hook{"custom", []byte(`{"id":"cu` + id + `","type":"purchase","customerEmail":"` + email + `","data":{"order_id":"` + id + `","order_value":3}}`),
				map[string]string{"content-type": "application/json", "webhook-id": "msg_" + id}, "custom:cu" + id},
		)
		if i%2 == 0 {
			pi := "pi_" + id
			ev := func(typ, obj string) []byte {
				return []byte(`{"id":"evt_` + typ[:3] + id + `","type":"` + typ + `","livemode":true,"data":{"object":` + obj + `}}`)
			}
			hooks = append(hooks,
				hook{"stripe", ev("checkout.session.completed", `{"id":"cs_`+id+`","payment_status":"paid","payment_intent":"`+pi+`","amount_total":4999,"currency":"usd","customer_details":{"email":"`+email+`"}}`),
					map[string]string{"content-type": "application/json"}, "stripe:payment:" + pi},
				hook{"stripe", ev("payment_intent.succeeded", `{"id":"`+pi+`","amount_received":4999,"currency":"usd","receipt_email":"`+email+`"}`),
					map[string]string{"content-type": "application/json"}, "stripe:payment:" + pi},
			)
			siblings++
		}
	}
	for _, h := range hooks {
		keys[h.key] = true
	}
	return hooks, keys, siblings
}

type e2e struct {
	t         *testing.T
	stack     *Stack
	front     *httptest.Server
	secrets   secrets.WebhookSecrets
	res       *faultyResonance
	sqs       *sqs.Client
	attempts  atomic.Int64
	rejected  atomic.Int64 // 401s: must stay 0
	handler   atomic.Pointer[sqspoll.Handler]
	fw        *forward.Forwarder
	sendLimit time.Duration
}

// send delivers h as a provider would: signed afresh on every attempt,
// retried on anything but 2xx (a 401 is a test failure). It reports whether
// the webhook was answered 200.
func (e *e2e) send(h hook) bool {
	deadline := time.Now().Add(e.sendLimit)
	for time.Now().Before(deadline) {
		e.attempts.Add(1)
		headers, err := providers.Sign(h.provider, providers.Delivery{Body: h.body, URL: "https://" + strings.TrimPrefix(e.front.URL, "http://") + "/webhooks/" + h.provider, At: time.Now(), Headers: h.headers}, string(e.secrets[h.provider][0]))
		if err != nil {
			e.t.Error(err)
			return false
		}
		req, _ := http.NewRequest("POST", e.front.URL+"/webhooks/"+h.provider, strings.NewReader(string(h.body)))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				return true
			case 401:
				e.rejected.Add(1)
				return false
			}
		}
		time.Sleep(time.Duration(200+rand.IntN(300)) * time.Millisecond)
	}
	return false
}

// deliver sends every hook with 16 senders; one in five is delivered a
// second time, half of those at the same moment as the first.
func (e *e2e) deliver(hooks []hook, during func(sent int)) (accepted map[string]bool) {
	type job struct {
		h    hook
		twin bool
	}
	jobs := make(chan job)
	var mu sync.Mutex
	accepted = map[string]bool{}
	var later []hook
	var wg sync.WaitGroup
	var sent atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ok := e.send(j.h)
				if j.twin {
					var inner sync.WaitGroup
					inner.Add(1)
					go func() { defer inner.Done(); e.send(j.h) }()
					inner.Wait()
				}
				mu.Lock()
				if ok {
					accepted[string(j.h.body)] = true
				}
				mu.Unlock()
				if during != nil {
					during(int(sent.Add(1)))
				}
			}
		}()
	}
	for i, h := range hooks {
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
		jobs <- job{h, false}
	}
	close(jobs)
	wg.Wait()
	return accepted
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

// settle waits until every expected key is paid or was rejected and the
// events queue is empty.
func (e *e2e) settle(keys map[string]bool, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		awards, _ := e.res.snapshot()
		done := 0
		for k := range keys {
			if awards[k] > 0 || rejectsForGood(k) {
				done++
			}
		}
		if done == len(keys) && e.depth() == 0 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	e.t.Fatalf("not settled after %s: %d messages left in the events queue", limit, e.depth())
}

func (e *e2e) depth() int {
	out, err := e.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(e.stack.Resolver.Refs["EventsQueue"]), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		return -1
	}
	a, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	b, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	c, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesDelayed"])
	return a + b + c
}

// dlq drains the dead-letter queue: reward key -> reasons.
func (e *e2e) dlq() map[string][]string {
	out := map[string][]string{}
	empty := 0
	for empty < 2 {
		r, err := e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(e.stack.Resolver.Refs["DeadLetterQueue"]), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}, VisibilityTimeout: 600,
		})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			empty++
		}
		for _, m := range r.Messages {
			key := aws.ToString(m.MessageAttributes["reward_key"].StringValue)
			out[key] = append(out[key], aws.ToString(m.MessageAttributes["reason"].StringValue))
		}
	}
	return out
}

// crashing wraps the forwarder so that an invocation dies before every
// every-th Resonance call (counted across invocations, so the kills are
// certain, not a matter of luck on a slow machine): from then on nothing it
// does reaches Resonance or DynamoDB (no release, no completion), and it
// reports nothing to SQS, so its whole batch comes back. Claims it took stay
// INPROGRESS until their lease ends.
func crashing(fw *forward.Forwarder, every int64, crashes *atomic.Int64) sqspoll.Handler {
	calls := &atomic.Int64{}
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		dead := &atomic.Bool{}
		f := *fw
		f.Resonance = &dyingSender{next: fw.Resonance, dead: dead, calls: calls, every: every}
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
}

func (d *dyingSender) Send(ctx context.Context, key string, body []byte) (*resonance.Response, error) {
	if d.dead.Load() || d.calls.Add(1)%d.every == 0 {
		d.dead.Store(true)
		return nil, errors.New("dead")
	}
	return d.next.Send(ctx, key, body)
}

type dyingStore struct {
	next idempotency.Store
	dead *atomic.Bool
}

func (d *dyingStore) Claim(ctx context.Context, key string, lease time.Time) (idempotency.Outcome, *idempotency.Record, error) {
	if d.dead.Load() {
		return 0, nil, errors.New("dead")
	}
	return d.next.Claim(ctx, key, lease)
}

func (d *dyingStore) Complete(ctx context.Context, r idempotency.Record) error {
	if d.dead.Load() {
		return nil // the process is gone: nothing is written
	}
	return d.next.Complete(ctx, r)
}

func (d *dyingStore) Release(ctx context.Context, key string) error {
	if d.dead.Load() {
		return nil
	}
	return d.next.Release(ctx, key)
}

// TestE2E: webhooks from all five providers through the local HTTP front,
// SQS and DynamoDB (moto) and the forwarder into a faulty Resonance. Run A
// injects Resonance faults; run B also kills the forwarder mid-batch; run C
// stops moto under the ingest front. From the stub's own record: every
// reward that should be paid is paid exactly once, the DLQ holds exactly
// the permanently rejected ones, nothing answered 200 is lost.
func TestE2E(t *testing.T) {
	start := time.Now()
	res := &faultyResonance{awards: map[string]int{}, rejected: map[string]int{}, resends: map[string]int{}, rng: rand.New(rand.NewPCG(1, 2))}
	rsrv := httptest.NewServer(res)
	defer rsrv.Close()
	stack, err := Prepare(context.Background(), Config{
		Template: "../../template.yaml", LocalFile: "../../events/local-secrets.json", ResonanceURL: rsrv.URL, Out: io.Discard,
		Options: Options{Prefix: "e2e", VisibilityTimeout: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	// Faster clocks than production for a bounded test; everything else is
	// the template's.
	if err := stack.build(map[string]string{
		"BACKOFF_BASE": "1s", "BACKOFF_MAX": "3s", "RESONANCE_TIMEOUT": "1s", "SQS_SEND_TIMEOUT": "1s", "AWS_LAMBDA_LOG_LEVEL": "ERROR",
	}); err != nil {
		t.Fatal(err)
	}
	lf, _ := LoadLocalFile("../../events/local-secrets.json")
	ws, _ := secrets.ParseWebhookSecrets(string(lf.Secrets["WebhookSecret"]))
	e := &e2e{t: t, stack: stack, front: httptest.NewServer(stack.Front), secrets: ws, res: res,
		sqs: sqs.NewFromConfig(motoserver.AWSConfig(stack.Endpoint)), sendLimit: 60 * time.Second}
	defer e.front.Close()

	fwFunc, _ := stack.Function("ForwarderFunction")
	var fw *forward.Forwarder
	if err := withEnv(mergeMaps(fwFunc.Env, map[string]string{"BACKOFF_BASE": "1s", "BACKOFF_MAX": "3s", "RESONANCE_TIMEOUT": "1s", "AWS_LAMBDA_LOG_LEVEL": "ERROR"}), func() (err error) {
		fw, err = forward.FromEnv()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ps := stack.Pollers[0]
	ps.Poller.Timeout = 5 * time.Second // the invocation's deadline, and so the claims' lease
	normal := sqspoll.Handler(fw.Handle)
	e.handler.Store(&normal)
	ctx, cancel := context.WithCancel(context.Background())
	pollers := e.poll(ctx, ps)

	totalSent, totalAccepted, totalSiblings := 0, 0, 0
	allKeys := map[string]bool{}
	add := func(hooks []hook, keys map[string]bool, accepted map[string]bool, siblings int) {
		totalSent += len(hooks)
		totalAccepted += len(accepted)
		totalSiblings += siblings
		for k := range keys {
			allKeys[k] = true
		}
		if len(accepted) != len(hooks) {
			t.Fatalf("%d of %d webhooks were never answered 200", len(hooks)-len(accepted), len(hooks))
		}
	}

	// Run A: Resonance faults only.
	hooksA, keysA, sibA := makeHooks("a", 180)
	ingestStart := time.Now()
	accA := e.deliver(hooksA, nil)
	ingestTook := time.Since(ingestStart)
	e.settle(keysA, 4*time.Minute)
	runATook := time.Since(ingestStart)
	add(hooksA, keysA, accA, sibA)
	if _, resends := res.snapshot(); len(resends) != 0 {
		t.Fatalf("without crashes the relay re-sent %d paid rewards", len(resends))
	}

	// Run B: the forwarder is killed mid-batch (before every 25th call) until
	// it has died three times, and then restarted.
	var crashes atomic.Int64
	crashy := crashing(fw, 25, &crashes)
	e.handler.Store(&crashy)
	hooksB, keysB, sibB := makeHooks("b", 40)
	accB := e.deliver(hooksB, nil)
	for deadline := time.Now().Add(90 * time.Second); crashes.Load() < 3 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	e.handler.Store(&normal) // restarted
	if crashes.Load() < 3 {
		t.Fatalf("run B killed the forwarder %d times in 90 s, want 3", crashes.Load())
	}
	e.settle(keysB, 3*time.Minute)
	add(hooksB, keysB, accB, sibB)

	// Run C: moto stops under the ingest front for 3 s.
	hooksC, keysC, sibC := makeHooks("c", 40)
	var paused atomic.Bool
	accC := e.deliver(hooksC, func(sent int) {
		if sent == 60 && paused.CompareAndSwap(false, true) {
			_ = stack.Moto.Pause()
			time.AfterFunc(3*time.Second, func() { _ = stack.Moto.Resume() })
		}
	})
	e.settle(keysC, 3*time.Minute)
	add(hooksC, keysC, accC, sibC)

	time.Sleep(4 * time.Second) // anything still to come would show now
	cancel()
	pollers.Wait()

	awards, resends := res.snapshot()
	parked := e.dlq()
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
	summary := fmt.Sprintf("e2e: %d sent, %d accepted, %d forwarded once, %d parked, %d lost, %d duplicated", totalSent, totalAccepted, forwarded, parkedKeys, lost, duplicated)
	fmt.Println(summary)
	fmt.Printf("e2e: %d deliveries (duplicates and retries included), %d skipped as second events of a payment, %d Resonance calls, %d forwarder kills, %d re-sends after a kill answered 409 by Resonance\n",
		e.attempts.Load(), skipped, res.calls.Load(), crashes.Load(), resent)
	fmt.Printf("e2e: run A %d webhooks ingested in %s (%.0f/s), all settled in %s; whole test %s\n",
		len(hooksA), ingestTook.Round(time.Millisecond), float64(len(hooksA))/ingestTook.Seconds(), runATook.Round(time.Millisecond), took.Round(time.Second))
	if out := os.Getenv("E2E_SUMMARY"); out != "" {
		_ = os.WriteFile(out, []byte(summary+"\n"), 0o644)
	}
}
