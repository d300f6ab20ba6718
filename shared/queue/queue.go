// Package queue sends messages to SQS.
package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Sender puts one message, with string attributes, on a queue.
type Sender interface {
	Send(ctx context.Context, body string, attrs map[string]string) error
}

// VisibilityChanger sets when a received message is seen again.
type VisibilityChanger interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error
}

// Client is the part of the SQS client this package uses.
type Client interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// SQS is a Sender and VisibilityChanger for one queue.
type SQS struct {
	Client Client
	URL    string
}

// MaxVisibility is SQS's longest visibility timeout.
const MaxVisibility = 12 * time.Hour

// ChangeVisibility makes the message visible again after the given time
// (rounded up to a second, at most 12 hours).
func (q SQS) ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error {
	after = min(after, MaxVisibility)
	secs := int32((after + time.Second - 1) / time.Second)
	_, err := q.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.URL), ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("queue: change visibility on %s: %w", q.URL, err)
	}
	return nil
}

// Send sends body with attrs as String message attributes.
func (q SQS) Send(ctx context.Context, body string, attrs map[string]string) error {
	in := &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(body)}
	if len(attrs) > 0 {
		in.MessageAttributes = make(map[string]types.MessageAttributeValue, len(attrs))
		for k, v := range attrs {
			if v == "" {
				continue
			}
			in.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	if _, err := q.Client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("queue: send to %s: %w", q.URL, err)
	}
	return nil
}

// AttributesSize is the size SQS counts for string attributes: name, type
// ("String") and value of each.
func AttributesSize(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		if v != "" {
			n += len(k) + len("String") + len(v)
		}
	}
	return n
}
