// Package dlq is the operator's view of the dead-letter queue: read it
// grouped by reason and provider, show one message decoded with emails
// masked, put chosen messages back on the events queue, move everything back
// with SQS's message-move task, or delete what is not wanted.
//
// Putting a message back is always safe to repeat: the forwarder claims
// each reward's key in the idempotency table, so a webhook that was already
// rewarded is acknowledged as a duplicate and not paid again.
//
// Reading an SQS queue means receiving its messages, which hides them from
// other readers for a while; the tool holds what it read for Hold and makes
// what it did not act on visible again at once (Release).
package dlq

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
)

// Client is the part of the SQS client the tool uses.
type Client interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	StartMessageMoveTask(context.Context, *sqs.StartMessageMoveTaskInput, ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(context.Context, *sqs.ListMessageMoveTasksInput, ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
}

// NoReason is the reason shown for a message SQS moved to the DLQ itself
// (the forwarder failed it maxReceiveCount times without parking it, for
// example by crashing or timing out): such a message carries no reason.
const NoReason = "max_receives_exceeded"

// DefaultHold is how long read messages stay hidden while the tool acts.
const DefaultHold = 2 * time.Minute

// ErrNotFound is returned when no message has an id asked for.
var ErrNotFound = errors.New("dlq: no such message in the dead-letter queue (it may be held by another reader for a minute or two)")

// Tool acts on one deployment's queues.
type Tool struct {
	SQS    Client
	DLQ    string // dead-letter queue URL
	Events string // events queue URL
	// Rewards, when set, is the idempotency table, for Resolve.
	Rewards Rewards
	// Keys, when set, are the relay's envelope keys, for ReplayResigned.
	Keys envelope.KeySource
	Hold time.Duration
	// Progress, when set, is told how far a replay, delete or redrive has
	// come, after each message.
	Progress func(done, total int)
}

func (t *Tool) report(done, total int) {
	if t.Progress != nil {
		t.Progress(done, total)
	}
}

// Message is one dead-lettered webhook.
type Message struct {
	ID            string
	ReceiptHandle string
	Body          string
	Attrs         map[string]string // reason, detail, source, provider, reward_key, http_status, resonance_response, ...
	Sent          time.Time         // when it was first sent (to the events queue or the DLQ)
	Receives      int
	Envelope      *envelope.Envelope // nil when the body is not an envelope
	// Signature says whether the envelope verifies with the relay's keys
	// today, once CheckSignature has looked.
	Signature string
}

// Reason is why the message was parked.
func (m *Message) Reason() string {
	if r := m.Attrs["reason"]; r != "" {
		return r
	}
	return NoReason
}

// Provider is the webhook's provider.
func (m *Message) Provider() string {
	if p := m.Attrs["provider"]; p != "" {
		return p
	}
	if m.Envelope != nil && m.Envelope.Provider != "" {
		return m.Envelope.Provider
	}
	return "unknown"
}

func (t *Tool) hold() time.Duration {
	if t.Hold > 0 {
		return t.Hold
	}
	return DefaultHold
}

// Depth returns the DLQ's approximate visible and in-flight counts.
func (t *Tool) Depth(ctx context.Context) (visible, inFlight int, err error) {
	out, err := t.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(t.DLQ),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, 0, fmt.Errorf("dlq: read the dead-letter queue's depth: %w", err)
	}
	visible, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight, nil
}

// Read receives up to max messages (0: all) and holds them. Call Release on
// the ones not acted on.
func (t *Tool) Read(ctx context.Context, max int) ([]Message, error) {
	var out []Message
	seen := map[string]int{} // message id -> index in out
	emptyPolls := 0
	for max <= 0 || len(out) < max {
		n := int32(10)
		if max > 0 {
			n = int32(min(10, max-len(out)))
		}
		// A long poll of a second asks every SQS server, where a short
		// poll samples some and can answer empty with messages waiting.
		res, err := t.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(t.DLQ),
			MaxNumberOfMessages:         n,
			WaitTimeSeconds:             1,
			VisibilityTimeout:           int32(t.hold() / time.Second),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return out, fmt.Errorf("dlq: receive from the dead-letter queue: %w", err)
		}
		fresh := 0
		for _, m := range res.Messages {
			id := aws.ToString(m.MessageId)
			if i, ok := seen[id]; ok {
				// Only the latest receipt handle deletes or releases it.
				out[i].ReceiptHandle = aws.ToString(m.ReceiptHandle)
				continue
			}
			seen[id] = len(out)
			fresh++
			out = append(out, message(m))
		}
		// Empty, or only messages read already (a queue so long that the
		// first ones became visible again before the end): done. An empty
		// first answer is asked once more (a second, only for an empty
		// queue): one CI run on moto read nothing from a DLQ holding two
		// messages sent just before, and did not do so again in 8 reruns.
		if fresh == 0 && (len(out) > 0 || emptyPolls > 0) {
			break
		}
		if fresh == 0 {
			emptyPolls++
		}
	}
	return out, nil
}

func message(m types.Message) Message {
	msg := Message{
		ID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
		Attrs: map[string]string{},
	}
	for k, v := range m.MessageAttributes {
		msg.Attrs[k] = aws.ToString(v.StringValue)
	}
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		msg.Sent = time.UnixMilli(ms)
	}
	msg.Receives, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	if env, err := envelope.Decode([]byte(msg.Body)); err == nil {
		msg.Envelope = env
	}
	return msg
}

// Release makes messages visible again at once.
func (t *Tool) Release(ctx context.Context, msgs []Message) error {
	var errs []error
	q := queue.SQS{Client: t.SQS, URL: t.DLQ}
	for _, m := range msgs {
		if err := q.ChangeVisibility(ctx, m.ReceiptHandle, 0); err != nil {
			errs = append(errs, fmt.Errorf("dlq: release %s: %w", m.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Group is the messages of one reason and provider.
type Group struct {
	Reason, Provider string
	Count            int
	Oldest, Newest   time.Time
	IDs              []string
}

// Groups counts msgs by reason and provider, the largest group first.
func Groups(msgs []Message) []Group {
	idx := map[[2]string]*Group{}
	var out []*Group
	for i := range msgs {
		m := &msgs[i]
		k := [2]string{m.Reason(), m.Provider()}
		g := idx[k]
		if g == nil {
			g = &Group{Reason: k[0], Provider: k[1], Oldest: m.Sent, Newest: m.Sent}
			idx[k] = g
			out = append(out, g)
		}
		g.Count++
		g.IDs = append(g.IDs, m.ID)
		if m.Sent.Before(g.Oldest) {
			g.Oldest = m.Sent
		}
		if m.Sent.After(g.Newest) {
			g.Newest = m.Sent
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason+out[i].Provider < out[j].Reason+out[j].Provider
	})
	res := make([]Group, len(out))
	for i, g := range out {
		res[i] = *g
	}
	return res
}

// Select splits msgs into those chosen (by id, or all of a reason, or all
// when both are empty and all is set) and the rest. A reason matches
// exactly, or as a prefix ending in ':' ("resonance_unavailable" matches
// "resonance_unavailable: resonance_503").
func Select(msgs []Message, ids []string, reason string, all bool) (chosen, rest []Message) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, m := range msgs {
		r := m.Reason()
		ok := want[m.ID] || all ||
			(reason != "" && (r == reason || strings.HasPrefix(r, reason+":")))
		if ok {
			chosen = append(chosen, m)
		} else {
			rest = append(rest, m)
		}
	}
	return chosen, rest
}

// Replay puts each message back on the events queue, as it was, then
// deletes it from the DLQ. A message sent but not deleted (the delete
// failed) is in both queues; the idempotency table makes that harmless.
func (t *Tool) Replay(ctx context.Context, msgs []Message) (int, error) {
	done := 0
	events := queue.SQS{Client: t.SQS, URL: t.Events}
	for _, m := range msgs {
		attrs := map[string]string{"provider": m.Provider(), "replayed_after": m.Reason()}
		if err := events.Send(ctx, m.Body, attrs); err != nil {
			return done, fmt.Errorf("dlq: replay %s to the events queue: %w", m.ID, err)
		}
		if err := t.delete(ctx, m); err != nil {
			return done, fmt.Errorf("dlq: %s replayed but still in the dead-letter queue (replaying it again is harmless): %w", m.ID, err)
		}
		done++
		t.report(done, len(msgs))
	}
	return done, nil
}

// Delete removes messages from the DLQ for good.
func (t *Tool) Delete(ctx context.Context, msgs []Message) (int, error) {
	done := 0
	for _, m := range msgs {
		if err := t.delete(ctx, m); err != nil {
			return done, err
		}
		done++
		t.report(done, len(msgs))
	}
	return done, nil
}

func (t *Tool) delete(ctx context.Context, m Message) error {
	_, err := t.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(t.DLQ), ReceiptHandle: aws.String(m.ReceiptHandle)})
	if err != nil {
		return fmt.Errorf("dlq: delete %s: %w", m.ID, err)
	}
	return nil
}

// Redriven says how a redrive went.
type Redriven struct {
	TaskHandle string // the message-move task, when SQS runs it
	Moved      int    // messages this tool moved, when it did the work itself
	Fallback   error  // why the message-move task was not used
}

// Redrive moves every message back to the events queue with an SQS
// message-move task (SQS does the work, up to 500 messages a second by
// default). Where the task cannot be started (an SQS-compatible endpoint
// without it, such as moto; or a permission missing), or fails as soon as
// it starts (it sends as the operator, whom the events queue's policy may
// refuse), it replays them itself, which has the same effect or fails with
// the reason.
func (t *Tool) Redrive(ctx context.Context) (Redriven, error) {
	handle, err := t.startMoveTask(ctx)
	if err == nil {
		return Redriven{TaskHandle: handle}, nil
	}
	if ctx.Err() != nil {
		return Redriven{}, ctx.Err()
	}
	res := Redriven{Fallback: err}
	// Move what is there now: a message the forwarder parks again while
	// this runs is left for the operator, not replayed in a loop.
	visible, inFlight, err := t.Depth(ctx)
	if err != nil {
		return res, err
	}
	total := visible + inFlight
	if outer := t.Progress; outer != nil {
		t.Progress = func(done, _ int) { outer(res.Moved+done, total) }
		defer func() { t.Progress = outer }()
	}
	for res.Moved < visible+inFlight {
		msgs, err := t.Read(ctx, min(100, visible+inFlight-res.Moved))
		if err != nil {
			return res, err
		}
		if len(msgs) == 0 {
			return res, nil
		}
		n, err := t.Replay(ctx, msgs)
		res.Moved += n
		if err != nil {
			_ = t.Release(ctx, msgs[n:])
			return res, err
		}
	}
	return res, nil
}

// startMoveTask asks SQS to move the DLQ's messages to the events queue and
// returns the task's handle.
func (t *Tool) startMoveTask(ctx context.Context) (string, error) {
	src, err := t.arn(ctx, t.DLQ)
	if err != nil {
		return "", err
	}
	dst, err := t.arn(ctx, t.Events)
	if err != nil {
		return "", err
	}
	out, err := t.SQS.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{
		SourceArn: aws.String(src), DestinationArn: aws.String(dst),
	}, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return "", err
	}
	return aws.ToString(out.TaskHandle), t.moveTaskFailure(ctx, src)
}

// moveTaskWatch is how long a started message-move task is watched for an
// early failure, and how often.
var moveTaskWatch, moveTaskPoll = 3 * time.Second, 500 * time.Millisecond

// moveTaskFailure watches the task just started on src for a few seconds:
// a task whose sends are refused (the events queue's policy, a missing
// permission) fails at once, while StartMessageMoveTask said it started.
// It returns that failure, or nil once the task moves messages, ends well,
// or the watch is over.
func (t *Tool) moveTaskFailure(ctx context.Context, src string) error {
	deadline := time.Now().Add(moveTaskWatch)
	for {
		out, err := t.SQS.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(src), MaxResults: aws.Int32(1)})
		if err != nil || len(out.Results) == 0 {
			return nil // the task started; its status is not ours to read
		}
		task := out.Results[0] // the most recent: the one just started
		switch {
		case aws.ToString(task.Status) == "FAILED":
			return fmt.Errorf("dlq: the message-move task failed: %s", aws.ToString(task.FailureReason))
		case aws.ToString(task.Status) != "RUNNING" || task.ApproximateNumberOfMessagesMoved > 0 || !time.Now().Before(deadline):
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(moveTaskPoll):
		}
	}
}

func (t *Tool) arn(ctx context.Context, url string) (string, error) {
	out, err := t.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("dlq: read %s: %w", url, err)
	}
	return out.Attributes[string(types.QueueAttributeNameQueueArn)], nil
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// MaskEmails masks every email address in s ("jon@example.com" ->
// "j***@example.com").
func MaskEmails(s string) string { return emailRE.ReplaceAllStringFunc(s, mapping.MaskEmail) }
