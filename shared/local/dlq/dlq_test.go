package dlq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awstest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/dlq"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/sqspoll"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

const brand = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

// resonanceStub pays every reward, or rejects those of one provider with
// 422 and an answer naming the customer, as failing says.
type resonanceStub struct {
	mu      sync.Mutex
	paid    map[string]int // reward key -> successful calls
	failing atomic.Value   // string: the provider whose rewards are refused
}

func (s *resonanceStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if p, _ := s.failing.Load().(string); p != "" && strings.HasPrefix(key, p+":") {
		w.WriteHeader(422)
		w.Write([]byte(`{"success":false,"error":"user maria.lopez@example.com is not a member of this brand"}`))
		return
	}
	s.mu.Lock()
	s.paid[key]++
	s.mu.Unlock()
	w.Write([]byte(`{"success":true,"rewardAmount":10}`))
}

func (s *resonanceStub) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paid[key]
}

type creds struct{}

func (creds) Get(context.Context) (resonance.Credentials, error) {
	return resonance.Credentials{APIKey: "k"}, nil
}

// relay is the forwarder of a deployment on moto, and the DLQ tool on its
// queues.
type relay struct {
	sqs      *sqs.Client
	events   string
	dead     string
	poller   *sqspoll.Poller
	tool     *dlq.Tool
	resonant *resonanceStub
}

func newRelay(t *testing.T) *relay {
	m := awstest.StartMoto(t)
	cfg := m.Config()
	r := &relay{sqs: sqs.NewFromConfig(cfg), resonant: &resonanceStub{paid: map[string]int{}}}
	r.dead = m.CreateQueue(t, "dlq", nil)
	r.events = m.CreateQueue(t, "events", map[string]string{
		"VisibilityTimeout": "30",
		"RedrivePolicy":     `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":8}`,
	})
	table := m.CreateIdempotencyTable(t, "rewards")
	srv := httptest.NewServer(r.resonant)
	t.Cleanup(srv.Close)
	cfgs, err := providers.LoadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	envKey, err := devstack.EnvelopeKey("../../../events/local-secrets.json")
	if err != nil {
		t.Fatal(err)
	}
	f := &forward.Forwarder{
		Mappers: samples.Mappers(), BrandID: brand, Configs: cfgs,
		Store:       &idempotency.DynamoDB{Client: dynamodb.NewFromConfig(cfg), Table: table},
		Resonance:   &resonance.Client{BaseURL: srv.URL, BrandID: brand, Auth: resonance.AuthBearer, Credentials: creds{}},
		DeadLetters: queue.SQS{Client: r.sqs, URL: r.dead},
		Visibility:  queue.SQS{Client: r.sqs, URL: r.events},
		Log:         slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
		Envelopes:   envelope.StaticKeys{envKey},
	}
	r.poller = &sqspoll.Poller{Client: r.sqs, QueueURL: r.events, QueueARN: "arn:aws:sqs:us-east-1:123456789012:events", Handler: f.Handle}
	r.tool = &dlq.Tool{SQS: r.sqs, DLQ: r.dead, Events: r.events, Hold: 30 * time.Second}
	return r
}

// batchSamples are the envelopes of every sample in events/ForwarderFunction/
// (one file each), by message id.
func batchSamples(t *testing.T) map[string]string {
	files, _ := filepath.Glob("../../../events/ForwarderFunction/*-*.json")
	var ev events.SQSEvent
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var one events.SQSEvent
		if err := json.Unmarshal(raw, &one); err != nil {
			t.Fatal(err)
		}
		ev.Records = append(ev.Records, one.Records...)
	}
	key, err := devstack.EnvelopeKey("../../../events/local-secrets.json")
	if err == nil {
		err = samples.RestampSQS(&ev, key, time.Now()) // the forwarder refuses old envelopes
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range ev.Records {
		out[m.MessageId] = m.Body
	}
	return out
}

func (r *relay) send(t *testing.T, url, body string, attrs map[string]string) {
	t.Helper()
	if err := (queue.SQS{Client: r.sqs, URL: url}).Send(context.Background(), body, attrs); err != nil {
		t.Fatal(err)
	}
}

// drain runs the forwarder until the events queue is empty.
func (r *relay) drain(t *testing.T) {
	t.Helper()
	for i := 0; i < 50; i++ {
		n, _, err := r.poller.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("events queue not drained")
}

func (r *relay) depth(t *testing.T, url string) int {
	t.Helper()
	out, err := r.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, v := range out.Attributes {
		var x int
		json.Unmarshal([]byte(v), &x)
		n += x
	}
	return n
}

// TestListShowReplay walks a failed reward from the DLQ back to Resonance:
// Resonance refuses Zupy's rewards, both Zupy webhooks are parked with the
// reason and Resonance's answer; a Shopify order that was already paid also
// sits in the DLQ, put there by SQS itself. list groups them, show decodes
// one with the email masked, and after the fix replaying them pays the two
// Zupy rewards once each and the Shopify order not again.
func TestListShowReplay(t *testing.T) {
	ctx := context.Background()
	r := newRelay(t)
	s := batchSamples(t)
	r.resonant.failing.Store("zupy")
	for _, id := range []string{"sample-zupy-points-earned", "sample-zupy-customer-registered", "sample-shopify-orders-paid"} {
		r.send(t, r.events, s[id], nil)
	}
	r.drain(t)
	const shopifyKey = "shopify:order:5894410961189003264"
	if r.resonant.count(shopifyKey) != 1 {
		t.Fatalf("the Shopify order was paid %d times, want 1", r.resonant.count(shopifyKey))
	}
	// As SQS moves a message after maxReceiveCount: no reason attribute.
	r.send(t, r.dead, s["sample-shopify-orders-paid"], map[string]string{"provider": "shopify"})

	msgs, err := r.tool.Read(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	groups := dlq.Groups(msgs)
	if err := r.tool.Release(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, g := range groups {
		got = append(got, g.Reason+"/"+g.Provider+"="+strconv.Itoa(g.Count))
	}
	if want := "resonance_rejected/zupy=2 max_receives_exceeded/shopify=1"; strings.Join(got, " ") != want {
		t.Fatalf("groups %v, want %s", got, want)
	}

	// Released, the messages can be read again at once.
	msgs, err = r.tool.Read(ctx, 0)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("read %d messages after release (%v), want 3", len(msgs), err)
	}
	zupy, rest := dlq.Select(msgs, nil, "resonance_rejected", false)
	var out bytes.Buffer
	dlq.Show(&out, zupy[0])
	shown := out.String()
	// Every field's value starts in one column, past the longest name
	// ("header x-zupy-event" here).
	const col = len("header x-zupy-event  ")
	for _, f := range [][2]string{{"reason", "resonance_rejected"}, {"resonance status", "422"}, {"provider", "zupy"}, {"parked by", "forwarder"}, {"header x-zupy-event", zupy[0].Envelope.EventType}} {
		if line := f[0] + strings.Repeat(" ", col-len(f[0])) + f[1] + "\n"; !strings.Contains(shown, "\n"+line) {
			t.Errorf("show lacks the aligned line %q:\n%s", line, shown)
		}
	}
	for _, want := range []string{"m***@example.com", "body ("} {
		if !strings.Contains(shown, want) {
			t.Errorf("show lacks %q:\n%s", want, shown)
		}
	}
	if strings.Contains(shown, "maria.lopez@") || strings.Contains(shown, "joao.silva@") {
		t.Errorf("show leaks an email address:\n%s", shown)
	}

	// The fix: Resonance accepts Zupy's members again. Replay by reason,
	// and the Shopify one by id.
	r.resonant.failing.Store("")
	var steps []string
	r.tool.Progress = func(done, total int) { steps = append(steps, fmt.Sprintf("%d/%d", done, total)) }
	n, err := r.tool.Replay(ctx, zupy)
	r.tool.Progress = nil
	if got := strings.Join(steps, " "); got != "1/2 2/2" {
		t.Errorf("replay reported progress %q, want 1/2 2/2", got)
	}
	if err != nil || n != 2 {
		t.Fatalf("replayed %d (%v), want 2", n, err)
	}
	if n, err := r.tool.Replay(ctx, rest); err != nil || n != 1 {
		t.Fatalf("replayed %d (%v), want 1", n, err)
	}
	if d := r.depth(t, r.dead); d != 0 {
		t.Fatalf("%d messages left in the DLQ, want 0", d)
	}
	r.drain(t)
	if r.resonant.count(shopifyKey) != 1 {
		t.Fatalf("the replayed Shopify order was paid %d times in all, want 1", r.resonant.count(shopifyKey))
	}
	var zupyPaid int
	r.resonant.mu.Lock()
	for k, n := range r.resonant.paid {
		if strings.HasPrefix(k, "zupy:") {
			zupyPaid++
			if n != 1 {
				t.Errorf("%s paid %d times", k, n)
			}
		}
	}
	r.resonant.mu.Unlock()
	if zupyPaid != 2 {
		t.Fatalf("%d Zupy rewards paid after the replay, want 2", zupyPaid)
	}
	if d := r.depth(t, r.dead) + r.depth(t, r.events); d != 0 {
		t.Fatalf("%d messages left in the queues, want 0", d)
	}
}

// TestRedriveAndDelete: redrive moves everything back (moto has no
// message-move task, so the tool moves them itself and says why); delete
// removes only what was chosen.
func TestRedriveAndDelete(t *testing.T) {
	ctx := context.Background()
	r := newRelay(t)
	s := batchSamples(t)
	r.resonant.failing.Store("custom")
	for _, id := range []string{"sample-custom-purchase", "sample-custom-signup", "sample-stripe-checkout-session-completed"} {
		r.send(t, r.events, s[id], nil)
	}
	r.drain(t)
	if d := r.depth(t, r.dead); d != 2 {
		t.Fatalf("%d parked, want the 2 custom ones", d)
	}
	res, err := r.tool.Redrive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.TaskHandle != "" || res.Fallback == nil || res.Moved != 2 {
		t.Fatalf("redrive %+v: want the client-side move of 2 with the reason the task was not used", res)
	}
	if d, e := r.depth(t, r.dead), r.depth(t, r.events); d != 0 || e != 2 {
		t.Fatalf("after redrive: %d in the DLQ, %d in the events queue; want 0 and 2", d, e)
	}
	// Still refused: they come back to the DLQ. Delete one by id.
	r.drain(t)
	msgs, err := r.tool.Read(ctx, 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("read %d (%v), want 2", len(msgs), err)
	}
	chosen, rest := dlq.Select(msgs, []string{msgs[0].ID}, "", false)
	if n, err := r.tool.Delete(ctx, chosen); err != nil || n != 1 {
		t.Fatalf("deleted %d (%v), want 1", n, err)
	}
	if err := r.tool.Release(ctx, rest); err != nil {
		t.Fatal(err)
	}
	if d := r.depth(t, r.dead); d != 1 {
		t.Fatalf("%d left in the DLQ, want 1", d)
	}
}

func TestSelect(t *testing.T) {
	msgs := []dlq.Message{
		{ID: "a", Attrs: map[string]string{"reason": "resonance_unavailable: resonance_503"}},
		{ID: "b", Attrs: map[string]string{"reason": "resonance_rejected"}},
		{ID: "c", Attrs: map[string]string{}},
		{ID: "d", Attrs: map[string]string{"reason": "resonance_rejected_x"}},
	}
	for _, c := range []struct {
		ids    []string
		reason string
		all    bool
		want   string
	}{
		{nil, "resonance_unavailable", false, "a"},
		{nil, "resonance_rejected", false, "b"},
		{nil, dlq.NoReason, false, "c"},
		{[]string{"c", "d"}, "", false, "cd"},
		{nil, "", true, "abcd"},
		{nil, "", false, ""},
	} {
		chosen, rest := dlq.Select(msgs, c.ids, c.reason, c.all)
		got := ""
		for _, m := range chosen {
			got += m.ID
		}
		if got != c.want || len(chosen)+len(rest) != len(msgs) {
			t.Errorf("Select(%v, %q, %v) = %q, want %q", c.ids, c.reason, c.all, got, c.want)
		}
	}
}

func TestMaskEmails(t *testing.T) {
	for in, want := range map[string]string{
		`{"email":"jon.doe+vip@shop.example.co.uk"}`: `{"email":"j***@shop.example.co.uk"}`,
		"two: a@x.io, bob@y.org":                     "two: a***@x.io, b***@y.org",
		"no address @ all":                           "no address @ all",
	} {
		if got := dlq.MaskEmails(in); got != want {
			t.Errorf("MaskEmails(%q) = %q, want %q", in, got, want)
		}
	}
}
