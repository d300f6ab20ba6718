package forward

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awstest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/sqspoll"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
)

// stub is a Resonance that records every call and answers as its script says.
type stub struct {
	mu     sync.Mutex
	calls  []stubCall
	delay  time.Duration
	script func(key string, attempt int) (status int, retryAfter string)
	answer *string // when set, the body of every answer
}

type stubCall struct {
	key, body, auth string
	status          int
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	attempt := 1
	for _, c := range s.calls {
		if c.key == key {
			attempt++
		}
	}
	status, retryAfter := 200, ""
	if s.script != nil {
		status, retryAfter = s.script(key, attempt)
	}
	s.calls = append(s.calls, stubCall{key: key, body: string(body), auth: r.Header.Get("Authorization"), status: status})
	delay := s.delay
	s.mu.Unlock()
	time.Sleep(delay)
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if s.answer != nil {
		_, _ = io.WriteString(w, *s.answer)
	} else if status/100 == 2 {
		_, _ = io.WriteString(w, `{"success":true,"rewardAmount":10,"txHash":"0xabc"}`)
	} else {
		_, _ = io.WriteString(w, `{"success":false,"error":"status `+strconv.Itoa(status)+`"}`)
	}
}

// paid counts the 2xx answers per reward key.
func (s *stub) paid() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.calls {
		if c.status/100 == 2 {
			out[c.key]++
		}
	}
	return out
}

func (s *stub) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// recordingVisibility records every visibility change it passes on.
type recordingVisibility struct {
	next queue.VisibilityChanger
	mu   sync.Mutex
	seen []time.Duration
}

func (r *recordingVisibility) ChangeVisibility(ctx context.Context, h string, d time.Duration) error {
	r.mu.Lock()
	r.seen = append(r.seen, d)
	r.mu.Unlock()
	return r.next.ChangeVisibility(ctx, h, d)
}

type harness struct {
	moto      *awstest.Moto
	sqs       *sqs.Client
	ddb       *dynamodb.Client
	events    string
	dlq       string
	table     string
	stub      *stub
	f         *Forwarder
	vis       *recordingVisibility
	poller    *sqspoll.Poller
	maxRecv   int
	funcLimit time.Duration
}

// newHarness starts moto with the stack's queues (visibility 2 s, redrive
// after maxRecv receives), table and Resonance secret, an httptest Resonance,
// and a Forwarder built by FromEnv as the Lambda builds it.
func newHarness(t *testing.T, maxRecv int) *harness { return newHarnessEnv(t, maxRecv, nil) }

// newHarnessEnv is newHarness with more of the forwarder's environment.
func newHarnessEnv(t *testing.T, maxRecv int, env func(h *harness) map[string]string) *harness {
	t.Helper()
	h := &harness{moto: awstest.StartMoto(t), stub: &stub{}, maxRecv: maxRecv, funcLimit: 6 * time.Second}
	h.moto.Env(t)
	h.dlq = h.moto.CreateQueue(t, "dlq", nil)
	dlqARN := "arn:aws:sqs:us-east-1:123456789012:dlq"
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": maxRecv})
	h.events = h.moto.CreateQueue(t, "events", map[string]string{"VisibilityTimeout": "2", "RedrivePolicy": string(redrive)})
	h.table = h.moto.CreateIdempotencyTable(t, "idempotency")
	secret := h.moto.CreateSecret(t, "resonance", `{"apiKey":"test-key","hmacSecret":"test-hmac"}`)
	envKey := h.moto.CreateSecret(t, "envelope", string(localEnvelopeKey(t)))
	srv := httptest.NewServer(h.stub)
	t.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"IDEMPOTENCY_TABLE": h.table, "EVENTS_QUEUE_URL": h.events, "DEAD_LETTER_QUEUE_URL": h.dlq,
		"RESONANCE_SECRET_ID": secret, "RESONANCE_BRAND_ID": testBrand, "RESONANCE_API_URL": srv.URL,
		"RESONANCE_AUTH": "both", "MAX_RECEIVE_COUNT": strconv.Itoa(maxRecv), "RESONANCE_TIMEOUT": "2s",
		"BACKOFF_BASE": "1s", "BACKOFF_MAX": "2s", "ENVELOPE_KEY_ID": envKey,
	} {
		t.Setenv(k, v)
	}
	if env != nil {
		for k, v := range env(h) {
			t.Setenv(k, v)
		}
	}
	f, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	// moto's conditional writes are not atomic; DynamoDB's are.
	d := f.Store.(*idempotency.DynamoDB)
	d.Client = &motoserver.AtomicDynamoDB{Client: d.Client.(*dynamodb.Client)}
	if l, ok := f.Ledger.(*ledger.DynamoDB); ok {
		l.Client = &motoserver.AtomicDynamoDB{Client: l.Client.(*dynamodb.Client)}
	}
	h.vis = &recordingVisibility{next: f.Visibility}
	f.Visibility = h.vis
	h.f = f
	h.sqs = sqs.NewFromConfig(h.moto.Config())
	h.ddb = dynamodb.NewFromConfig(h.moto.Config())
	h.poller = &sqspoll.Poller{Client: h.sqs, QueueURL: h.events, Timeout: h.funcLimit, Handler: f.Handle}
	return h
}

func (h *harness) enqueue(t *testing.T, envs ...*envelope.Envelope) {
	t.Helper()
	for _, e := range envs {
		b := envelope.Encode(e)
		if _, err := h.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(h.events), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

// depth is the visible plus in-flight count of a queue.
func (h *harness) depth(t *testing.T, url string) int {
	t.Helper()
	out, err := h.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	b, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return a + b
}

// drain runs the poller until the events queue is empty.
func (h *harness) drain(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for h.depth(t, h.events) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("events queue not drained after %s (%d left)", limit, h.depth(t, h.events))
		}
		if _, _, err := h.poller.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// parked returns the DLQ's messages with their attributes.
func (h *harness) parked(t *testing.T) []sqstypes.Message {
	t.Helper()
	var out []sqstypes.Message
	for range 3 {
		r, err := h.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(h.dlq), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}, VisibilityTimeout: 30,
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Messages...)
	}
	return out
}

func attr(m sqstypes.Message, name string) string {
	if v, ok := m.MessageAttributes[name]; ok {
		return aws.ToString(v.StringValue)
	}
	return ""
}

func sampleEnvs(t *testing.T) map[string]*envelope.Envelope { return sampleEnvelopes(t) }

const (
	orderSample    = "ShopifyWebhookFunction/orders-paid.json"
	checkoutSample = "StripeWebhookFunction/checkout-session-completed.json"
	chargeSample   = "StripeWebhookFunction/charge-succeeded.json"
)

func TestIntegrationForwarding(t *testing.T) {
	h := newHarness(t, 5)
	s := sampleEnvs(t)
	order := s[orderSample]
	orderKey := "shopify:order:5894410961189003264"
	payKey := "stripe:payment:pi_3QxYzAbC123"

	t.Run("the same delivery twice forwards once", func(t *testing.T) {
		h.enqueue(t, order, order)
		h.drain(t, 20*time.Second)
		if got := h.stub.paid()[orderKey]; got != 1 {
			t.Fatalf("paid %d times, want 1", got)
		}
	})

	t.Run("a checkout session and its charge forward once", func(t *testing.T) {
		h.enqueue(t, s[checkoutSample], s[chargeSample])
		h.drain(t, 20*time.Second)
		if got := h.stub.paid()[payKey]; got != 1 {
			t.Fatalf("paid %d times, want 1", got)
		}
	})

	t.Run("the record says COMPLETED with Resonance's answer", func(t *testing.T) {
		out, err := h.ddb.GetItem(context.Background(), &dynamodb.GetItemInput{
			TableName: aws.String(h.table), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: orderKey}},
		})
		if err != nil {
			t.Fatal(err)
		}
		st, _ := out.Item["status"].(*ddbtypes.AttributeValueMemberS)
		tx, _ := out.Item["tx_hash"].(*ddbtypes.AttributeValueMemberS)
		exp, _ := out.Item["expiration"].(*ddbtypes.AttributeValueMemberN)
		if st == nil || st.Value != "COMPLETED" || tx == nil || tx.Value != "0xabc" || exp == nil {
			t.Fatalf("record %v", out.Item)
		}
		if e, _ := strconv.ParseInt(exp.Value, 10, 64); time.Until(time.Unix(e, 0)) < 7*24*time.Hour {
			t.Fatalf("record expires in %s, want at least 7 days", time.Until(time.Unix(e, 0)))
		}
	})

	t.Run("both auth modes are sent", func(t *testing.T) {
		h.stub.mu.Lock()
		defer h.stub.mu.Unlock()
		if len(h.stub.calls) == 0 || h.stub.calls[0].auth != "Bearer test-key" {
			t.Fatalf("calls %+v lack the bearer token", h.stub.calls)
		}
	})
}

func TestIntegrationConcurrentDuplicates(t *testing.T) {
	h := newHarness(t, 5)
	h.stub.delay = 300 * time.Millisecond
	order := sampleEnvs(t)[orderSample]
	h.enqueue(t, order, order, order, order)
	// Two "Lambda instances" at once, one message each at first.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := *h.poller
			p.BatchSize = 1
			_, _, _ = p.Once(context.Background())
		}()
	}
	wg.Wait()
	h.drain(t, 30*time.Second)
	if got := h.stub.paid(); len(got) != 1 || got["shopify:order:5894410961189003264"] != 1 {
		t.Fatalf("paid %v, want the order once", got)
	}
}

func TestIntegrationFailures(t *testing.T) {
	h := newHarness(t, 5)
	s := sampleEnvs(t)
	h.stub.script = func(key string, attempt int) (int, string) {
		switch key {
		case "custom:erp-order-20931": // transient, then success
			if attempt == 1 {
				return 503, ""
			}
		case "custom:crm-signup-5521": // rejected for good
			return 400, ""
		case "zupy:transaction:txn_7c41e2": // rate limited once, with Retry-After
			if attempt == 1 {
				return 429, "3"
			}
		}
		return 200, ""
	}
	purchase, signup, zupy := s["CustomWebhookFunction/purchase.json"], s["CustomWebhookFunction/signup.json"], s["ZupyWebhookFunction/points-earned.json"]
	h.enqueue(t, purchase)
	h.drain(t, 20*time.Second)
	h.enqueue(t, signup)
	h.drain(t, 20*time.Second)
	h.enqueue(t, zupy)
	h.drain(t, 20*time.Second)

	paid := h.stub.paid()
	if paid["custom:erp-order-20931"] != 1 || paid["zupy:transaction:txn_7c41e2"] != 1 || paid["custom:crm-signup-5521"] != 0 {
		t.Fatalf("paid %v", paid)
	}
	parked := h.parked(t)
	if len(parked) != 1 {
		t.Fatalf("DLQ holds %d messages, want the rejected signup only", len(parked))
	}
	p := parked[0]
	env, err := envelope.Decode([]byte(aws.ToString(p.Body)))
	if err != nil || env.DeliveryID != signup.DeliveryID {
		t.Fatalf("parked %v, %v; want the signup's envelope", env, err)
	}
	if attr(p, "reason") != "resonance_rejected" || attr(p, "http_status") != "400" || attr(p, "resonance_response") == "" || attr(p, "provider") != "custom" {
		t.Fatalf("parked attributes %v", p.MessageAttributes)
	}
	h.vis.mu.Lock()
	defer h.vis.mu.Unlock()
	honoured := false
	for _, d := range h.vis.seen {
		honoured = honoured || d >= 3*time.Second
	}
	if !honoured {
		t.Fatalf("visibility changes %v never honoured Retry-After: 3", h.vis.seen)
	}
}

// TestIntegrationLeases: a claim whose lease has passed (its worker died,
// perhaps after Resonance paid) is parked as outcome_unknown, never paid
// again; a live one sends the message back for later, and when its holder
// completes, the message is a duplicate.
func TestIntegrationLeases(t *testing.T) {
	h := newHarness(t, 5)
	s := sampleEnvs(t)
	put := func(key string, leaseEnd time.Time) {
		_, err := h.ddb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(h.table), Item: map[string]ddbtypes.AttributeValue{
			"id":                     &ddbtypes.AttributeValueMemberS{Value: key},
			"status":                 &ddbtypes.AttributeValueMemberS{Value: "INPROGRESS"},
			"expiration":             &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
			"in_progress_expiration": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(leaseEnd.UnixMilli(), 10)},
			"attempt":                &ddbtypes.AttributeValueMemberN{Value: "1"},
			"owner":                  &ddbtypes.AttributeValueMemberS{Value: "gone"},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	dead, live := "custom:erp-order-20931", "custom:crm-signup-5521"
	put(dead, time.Now().Add(-time.Minute))
	put(live, time.Now().Add(3*time.Second))
	go func() { // the live worker completes a second later
		time.Sleep(time.Second)
		_ = h.f.Store.Complete(context.Background(), idempotency.Record{Key: live, HTTPStatus: 200})
	}()
	h.enqueue(t, s["CustomWebhookFunction/purchase.json"], s["CustomWebhookFunction/signup.json"])
	h.drain(t, 20*time.Second)
	if paid := h.stub.paid(); len(paid) != 0 {
		t.Fatalf("paid %v, want nothing: one is held, the other of unknown outcome", paid)
	}
	parked := h.parked(t)
	if len(parked) != 1 || attr(parked[0], "reason") != ReasonOutcomeUnknown || attr(parked[0], "reward_key") != dead ||
		attr(parked[0], "attempt") != "1" || !strings.Contains(attr(parked[0], "detail"), "recorded no outcome") {
		t.Fatalf("parked %v, want the dead worker's reward as outcome_unknown with its attempt", parked)
	}

	// UnknownOutcome=resend: the same Idempotency-Key goes out once more.
	h.f.UnknownOutcome = UnknownResend
	put("custom:erp-order-20931", time.Now().Add(-time.Minute))
	h.enqueue(t, s["CustomWebhookFunction/purchase.json"], s["CustomWebhookFunction/purchase.json"])
	h.drain(t, 20*time.Second)
	if paid := h.stub.paid(); len(paid) != 1 || paid[dead] != 1 {
		t.Fatalf("paid %v, want the dead worker's reward re-sent once", paid)
	}
}

// TestIntegrationGivesUpIntoTheDLQ: Resonance down on every attempt; on the
// last receive the message is parked with the reason, not dropped.
func TestIntegrationGivesUpIntoTheDLQ(t *testing.T) {
	h := newHarness(t, 2)
	h.stub.script = func(string, int) (int, string) { return 503, "" }
	h.enqueue(t, sampleEnvs(t)["CustomWebhookFunction/purchase.json"])
	h.drain(t, 30*time.Second)
	parked := h.parked(t)
	if len(parked) != 1 || attr(parked[0], "reason") != "resonance_unavailable: resonance_503" || attr(parked[0], "receive_count") != "2" {
		t.Fatalf("parked %d messages: %v", len(parked), parked)
	}
	if h.stub.count() != 2 {
		t.Fatalf("Resonance called %d times, want 2", h.stub.count())
	}
}
