// Package queue sends messages to SQS.
package queue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Sender puts one message, with string attributes, on a queue.
type Sender interface {
	Send(ctx context.Context, body string, attrs map[string]string) error
}

// SQS is a Sender for one queue.
type SQS struct {
	Client interface {
		SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	}
	URL string
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
