package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awstest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/dlq"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
)

const parked = "{\"v\":1,\"provider\":\"custom\",\"eventType\":\"purchase\",\"deliveryId\":\"erp-1\",\"receivedAt\":\"2026-11-23T08:13:26.861Z\",\"bodyBytes\":66}\n" +
	`{"id":"erp-1","type":"purchase","customerEmail":"ana@example.com"}`

// relayQueues starts moto, points the AWS SDK at it, and creates the DLQ
// and the events queue.
func relayQueues(t *testing.T) (m *awstest.Moto, dead, events string) {
	t.Helper()
	m = awstest.StartMoto(t)
	m.Env(t)
	return m, m.CreateQueue(t, "dlq", nil), m.CreateQueue(t, "events", nil)
}

// TestCommands runs the command as an operator would, against moto: the
// queues found from -local (make dev's outputs) or explicit URLs.
func TestCommands(t *testing.T) {
	m, dead, events := relayQueues(t)
	q := queue.SQS{Client: sqs.NewFromConfig(m.Config()), URL: dead}
	for _, reason := range []string{"resonance_rejected", "resonance_rejected", "no_customer_identity"} {
		if err := q.Send(context.Background(), parked, map[string]string{"reason": reason, "provider": "custom", "source": "forwarder", "http_status": "422", "resonance_response": `{"error":"ana@example.com unknown"}`}); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(t.TempDir())
	if err := devstack.WriteOutputs(devstack.OutputsFile, devstack.Outputs{Endpoints: motoserver.Same(m.Endpoint), EventsQueueURL: events, DeadLetterQueueURL: dead}); err != nil {
		t.Fatal(err)
	}
	urls := []string{"-dlq-url", dead, "-events-url", events}
	var firstID string
	for _, c := range []struct {
		name    string
		args    []string
		want    []string // regular expressions the output must match
		wantErr error
	}{
		{"list, local", []string{"-local", "list"}, []string{`3 messages`, `(?m)^2 +resonance_rejected +custom `, `(?m)^1 +no_customer_identity +custom `}, nil},
		{"show", append(urls, "show", "FIRST"), []string{`reason +resonance_rejected|reason +no_customer_identity`, `a\*\*\*@example\.com`, `"type": "purchase"`}, nil},
		{"show, unknown id", append(urls, "show", "nope"), nil, dlq.ErrNotFound},
		{"delete without -yes deletes nothing", append(urls, "delete", "-reason", "no_customer_identity"), []string{`would delete .* \(no_customer_identity, custom\)`, `nothing deleted`}, nil},
		{"delete -yes", append(urls, "delete", "-reason", "no_customer_identity", "-yes"), []string{`deleted 1 of 1`}, nil},
		{"replay by reason", append(urls, "replay", "-reason", "resonance_rejected"), []string{`replayed 2 of 2 to the events queue`}, nil},
		{"list, empty", append(urls, "list"), []string{`0 messages`}, nil},
		{"no command", urls, nil, errUsage},
		{"two places", append([]string{"-local"}, append(urls, "list")...), nil, errUsage},
		{"replay of nothing chosen", append(urls, "replay"), nil, errUsage},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string(nil), c.args...)
			for i, a := range args {
				if a == "FIRST" {
					args[i] = firstID
				}
			}
			var out bytes.Buffer
			err := run(context.Background(), args, &out)
			switch {
			case c.wantErr != nil && !errors.Is(err, c.wantErr):
				t.Fatalf("error %v, want %v", err, c.wantErr)
			case c.wantErr == nil && err != nil:
				t.Fatalf("error %v\n%s", err, out.String())
			}
			if strings.Contains(out.String(), "ana@example.com") {
				t.Fatalf("output leaks an email:\n%s", out.String())
			}
			for _, w := range c.want {
				if !regexp.MustCompile(w).MatchString(out.String()) {
					t.Fatalf("output lacks %s:\n%s", w, out.String())
				}
			}
			if firstID == "" {
				if id := regexp.MustCompile(`(?m)^\d+ .* ([0-9a-f-]{36})$`).FindStringSubmatch(out.String()); id != nil {
					firstID = id[1]
				}
			}
		})
	}
	got, err := sqs.NewFromConfig(m.Config()).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: &events, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil || got.Attributes["ApproximateNumberOfMessages"] != "2" {
		t.Fatalf("events queue holds %v (%v), want the 2 replayed", got.Attributes, err)
	}
}

// TestStackOutputs: -stack finds the queues from the stack's outputs
// (a stack created on moto's CloudFormation with the template's output
// names).
func TestStackOutputs(t *testing.T) {
	m := awstest.StartMoto(t)
	m.Env(t)
	const tpl = `{"Resources":{"EventsQueue":{"Type":"AWS::SQS::Queue"},"DeadLetterQueue":{"Type":"AWS::SQS::Queue"}},
"Outputs":{"EventsQueueUrl":{"Value":{"Ref":"EventsQueue"}},"DeadLetterQueueUrl":{"Value":{"Ref":"DeadLetterQueue"}}}}`
	cf := cloudformation.NewFromConfig(m.Config())
	if _, err := cf.CreateStack(context.Background(), &cloudformation.CreateStackInput{StackName: aws.String("my-relay"), TemplateBody: aws.String(tpl)}); err != nil {
		t.Fatal(err)
	}
	res, err := cf.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String("my-relay")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Stacks[0].Outputs {
		if aws.ToString(o.OutputKey) == "DeadLetterQueueUrl" {
			q := queue.SQS{Client: sqs.NewFromConfig(m.Config()), URL: aws.ToString(o.OutputValue)}
			if err := q.Send(context.Background(), parked, map[string]string{"reason": "resonance_rejected"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-stack", "my-relay", "list"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`dead-letter queue \S+/my-relay-DeadLetterQueue-\w+ \(stack my-relay\)\n1 messages\n.*\n1 +resonance_rejected +custom`).MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"-stack", "no-such-stack", "list"}, &out); err == nil {
		t.Fatal("a missing stack was not reported")
	}
}

// TestResolve: rewards parked as outcome_unknown are settled once per key,
// as the operator says: resend opens the key and replays its messages,
// paid records it and deletes them; other reasons are refused.
func TestResolve(t *testing.T) {
	m, dead, events := relayQueues(t)
	ctx := context.Background()
	table := m.CreateIdempotencyTable(t, "idem")
	store := &idempotency.DynamoDB{Client: dynamodb.NewFromConfig(m.Config()), Table: table}
	q := queue.SQS{Client: sqs.NewFromConfig(m.Config()), URL: dead}
	park := func(key, reason string) {
		t.Helper()
		if err := q.Send(ctx, parked, map[string]string{"reason": reason, "provider": "custom", "reward_key": key, "attempt": "1"}); err != nil {
			t.Fatal(err)
		}
	}
	unknown := func(key string) {
		t.Helper()
		_, rec, err := store.Claim(ctx, idempotency.Claim{Key: key, LeaseUntil: time.Now().Add(time.Minute)})
		if err == nil {
			err = store.Unknown(ctx, *rec)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	depth := func(url string) string {
		got, err := sqs.NewFromConfig(m.Config()).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
		})
		if err != nil {
			t.Fatal(err)
		}
		return got.Attributes["ApproximateNumberOfMessages"]
	}
	urls := []string{"-dlq-url", dead, "-events-url", events, "-table", table}
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(append([]string(nil), urls...), args...), &out)
		return out.String(), err
	}

	unknown("custom:b")
	park("custom:b", "outcome_unknown")
	park("custom:r", "resonance_rejected")
	if _, err := cmd("resolve", "-reason", "outcome_unknown"); !errors.Is(err, errUsage) {
		t.Fatalf("resolve without -as: %v, want a usage error", err)
	}
	if _, err := cmd("resolve", "-as", "paid", "-all"); err == nil || !strings.Contains(err.Error(), "resonance_rejected") {
		t.Fatalf("resolve of a rejected reward: %v, want a refusal", err)
	}
	out, err := cmd("resolve", "-as", "resend", "-reason", "outcome_unknown")
	if err != nil || !strings.Contains(out, "custom:b: re-sent (1 message(s))") {
		t.Fatalf("resolve -as resend: %v\n%s", err, out)
	}
	if got, _, _ := store.Claim(ctx, idempotency.Claim{Key: "custom:b", LeaseUntil: time.Now().Add(time.Minute)}); got != idempotency.Claimed {
		t.Fatalf("after resend the next delivery's claim got %d, want Claimed", got)
	}
	if depth(events) != "1" {
		t.Fatalf("events queue holds %s, want the re-sent message", depth(events))
	}

	unknown("custom:a")
	park("custom:a", "outcome_unknown")
	park("custom:a", "outcome_unknown")
	out, err = cmd("resolve", "-as", "paid", "-reason", "outcome_unknown")
	if err != nil || !strings.Contains(out, "custom:a: recorded paid (2 message(s))") {
		t.Fatalf("resolve -as paid: %v\n%s", err, out)
	}
	if got, _, _ := store.Claim(ctx, idempotency.Claim{Key: "custom:a", LeaseUntil: time.Now().Add(time.Minute)}); got != idempotency.AlreadyCompleted {
		t.Fatalf("after paid a delivery's claim got %d, want AlreadyCompleted", got)
	}
	if depth(events) != "1" || depth(dead) != "1" {
		t.Fatalf("events %s, DLQ %s: want nothing sent, only the rejected one left", depth(events), depth(dead))
	}
}

// denyingSQS stands in front of moto as the events queue's policy does on
// AWS for an identity not in QueueOperatorArns: SendMessage to the events
// queue is answered AccessDenied (as SQS's JSON protocol answers it), and a
// message-move task starts but fails at once. Everything else goes to moto.
func denyingSQS(t *testing.T, moto, events string, deny *atomic.Bool) string {
	t.Helper()
	target, err := url.Parse(moto)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ QueueUrl string }
		_ = json.Unmarshal(body, &in)
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
		switch {
		case !deny.Load():
		case (op == "SendMessage" || op == "SendMessageBatch") && in.QueueUrl == events:
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Header().Set("x-amzn-query-error", "AccessDenied;Sender")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:123456789012:events with an explicit deny in a resource-based policy"}`)
			return
		case op == "StartMessageMoveTask":
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			io.WriteString(w, `{"TaskHandle":"task-1"}`)
			return
		case op == "ListMessageMoveTasks":
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			io.WriteString(w, `{"Results":[{"Status":"FAILED","FailureReason":"AccessDenied","ApproximateNumberOfMessagesMoved":0,"ApproximateNumberOfMessagesToMove":3}]}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSendDenied: an operator whom the events queue's policy refuses is
// told so, and what to do (add their ARN to QueueOperatorArns), instead of
// a raw SDK error, by replay, redrive (whose message-move task fails at
// once) and resolve -as resend; nothing leaves the DLQ; and once allowed,
// the same commands finish the job: resolve -as resend re-sends a reward it
// had already opened for one more attempt.
func TestSendDenied(t *testing.T) {
	m, dead, events := relayQueues(t)
	ctx := context.Background()
	table := m.CreateIdempotencyTable(t, "idem")
	var deny atomic.Bool
	deny.Store(true)
	t.Setenv("AWS_ENDPOINT_URL_SQS", denyingSQS(t, m.Endpoint, events, &deny))
	store := &idempotency.DynamoDB{Client: dynamodb.NewFromConfig(m.Config()), Table: table}
	client := sqs.NewFromConfig(m.Config())
	q := queue.SQS{Client: client, URL: dead}
	for _, reason := range []string{"resonance_rejected", "resonance_rejected"} {
		if err := q.Send(ctx, parked, map[string]string{"reason": reason, "provider": "custom"}); err != nil {
			t.Fatal(err)
		}
	}
	_, rec, err := store.Claim(ctx, idempotency.Claim{Key: "custom:u", LeaseUntil: time.Now().Add(time.Minute)})
	if err == nil {
		err = store.Unknown(ctx, *rec)
	}
	if err == nil {
		err = q.Send(ctx, parked, map[string]string{"reason": "outcome_unknown", "provider": "custom", "reward_key": "custom:u", "attempt": "1"})
	}
	if err != nil {
		t.Fatal(err)
	}
	depth := func(url string) string {
		got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
		})
		if err != nil {
			t.Fatal(err)
		}
		return got.Attributes["ApproximateNumberOfMessages"] + "+" + got.Attributes["ApproximateNumberOfMessagesNotVisible"]
	}
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"-dlq-url", dead, "-events-url", events, "-table", table}, args...), &out)
		return out.String(), err
	}
	for _, args := range [][]string{
		{"replay", "-reason", "resonance_rejected"},
		{"redrive"},
		{"resolve", "-as", "resend", "-reason", "outcome_unknown"},
	} {
		out, err := cmd(args...)
		var denied *sendDenied
		if !errors.As(err, &denied) {
			t.Fatalf("%v: error %v, want the AccessDenied explained\n%s", args, err, out)
		}
		msg := err.Error()
		for _, want := range []string{"refused to let you put messages on the events queue (AccessDenied)", "assumed-role/dev/alice", "QueueOperatorArns", "run the same command again"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%v: the message lacks %q:\n%s", args, want, msg)
			}
		}
		if strings.Contains(msg, "operation error") || strings.Contains(msg, "RequestID") {
			t.Errorf("%v: the message is the raw SDK error:\n%s", args, msg)
		}
		if d := depth(dead); d != "3+0" {
			t.Fatalf("%v: the DLQ holds %s (visible+hidden), want all 3 back and visible", args, d)
		}
	}
	if d := depth(events); d != "0+0" {
		t.Fatalf("events queue holds %s while denied", d)
	}

	deny.Store(false)
	if out, err := cmd("resolve", "-as", "resend", "-reason", "outcome_unknown"); err != nil || !strings.Contains(out, "custom:u: re-sent") {
		t.Fatalf("resolve -as resend once allowed: %v\n%s", err, out)
	}
	if out, err := cmd("replay", "-reason", "resonance_rejected"); err != nil || !strings.Contains(out, "replayed 2 of 2") {
		t.Fatalf("replay once allowed: %v\n%s", err, out)
	}
	if d, e := depth(dead), depth(events); d != "0+0" || e != "3+0" {
		t.Fatalf("once allowed: DLQ %s, events %s; want 0 and 3", d, e)
	}
	if got, _, _ := store.Claim(ctx, idempotency.Claim{Key: "custom:u", LeaseUntil: time.Now().Add(time.Minute)}); got != idempotency.Claimed {
		t.Fatalf("the re-sent reward's next claim got %d, want Claimed (one more attempt)", got)
	}
}

// TestResign: a plain replay keeps the message as it is (an unsigned or
// edited envelope stays unverifiable); replay -resign signs it with the
// relay's key in the operator's name, which the forwarder then logs.
func TestResign(t *testing.T) {
	m, dead, events := relayQueues(t)
	ctx := context.Background()
	const key = "cmd-dlq-test-envelope-key-0123456789abcdef"
	arn := m.CreateSecret(t, "envelope", key)
	q := queue.SQS{Client: sqs.NewFromConfig(m.Config()), URL: dead}
	if err := q.Send(ctx, parked, map[string]string{"reason": "envelope_unverified", "provider": "custom"}); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := devstack.WriteOutputs(devstack.OutputsFile, devstack.Outputs{Endpoints: motoserver.Same(m.Endpoint), EventsQueueURL: events, DeadLetterQueueURL: dead, EnvelopeKeyArn: arn}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("USER", "ops")
	var out bytes.Buffer
	if err := run(ctx, []string{"-local", "replay", "-resign", "-all"}, &out); !errors.Is(err, errUsage) {
		t.Fatalf("replay -resign -all: %v, want a usage error (re-signing names each message)", err)
	}
	if err := run(ctx, []string{"-local", "list"}, &out); err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`(?m)^1 .* ([0-9a-f-]{36})$`).FindStringSubmatch(out.String())
	if id == nil {
		t.Fatalf("no message id in:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"-local", "replay", "-resign", id[1]}, &out); err != nil || !strings.Contains(out.String(), "re-signed as ops@") {
		t.Fatalf("replay -resign: %v\n%s", err, out.String())
	}
	r, err := sqs.NewFromConfig(m.Config()).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &events, WaitTimeSeconds: 1})
	if err != nil || len(r.Messages) != 1 {
		t.Fatalf("events queue: %v, %v", r, err)
	}
	env, err := envelope.Decode([]byte(aws.ToString(r.Messages[0].Body)))
	if err != nil {
		t.Fatal(err)
	}
	if age := time.Since(env.ReceivedAt); age < 0 || age > time.Minute {
		t.Fatalf("re-signed envelope received %s ago; want stamped now (the operator vouches for it)", age)
	}
	if err := envelope.Verify(env, [][]byte{[]byte(key)}); err != nil || !strings.HasPrefix(env.ResignedBy, "ops@") {
		t.Fatalf("re-signed envelope: %v, by %q", err, env.ResignedBy)
	}
}
