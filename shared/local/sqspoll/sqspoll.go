// Package sqspoll does what Lambda's SQS event source mapping does, for the
// local stack and the integration tests: receive a batch, hand it to the
// function as an events.SQSEvent, and delete the messages the function did
// not report as failures. Visibility timeouts and the queue's redrive policy
// stay SQS's own.
package sqspoll

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Handler is an SQS-triggered function with partial batch responses.
type Handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// Poller feeds one queue to one handler.
type Poller struct {
	Client    *sqs.Client
	QueueURL  string
	QueueARN  string
	BatchSize int32         // default 10
	Wait      int32         // long-poll seconds (default 1)
	Timeout   time.Duration // the function's timeout (default 30 s)
	Handler   Handler
}

// Once receives one batch and processes it. It returns how many messages it
// received and how many the handler reported as failures.
func (p *Poller) Once(ctx context.Context) (received, failed int, err error) {
	batch := p.BatchSize
	if batch <= 0 {
		batch = 10
	}
	wait := p.Wait
	if wait <= 0 {
		wait = 1
	}
	out, err := p.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.QueueURL),
		MaxNumberOfMessages:         batch,
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sqspoll: receive: %w", err)
	}
	if len(out.Messages) == 0 {
		return 0, 0, nil
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
	for i, m := range out.Messages {
		ev.Records[i] = convert(m, p.QueueARN)
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	resp, herr := p.Handler(fctx, ev)
	cancel()
	failedIDs := map[string]bool{}
	if herr != nil { // the whole batch fails, as with Lambda
		for _, r := range ev.Records {
			failedIDs[r.MessageId] = true
		}
	}
	for _, f := range resp.BatchItemFailures {
		failedIDs[f.ItemIdentifier] = true
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, r := range ev.Records {
		if !failedIDs[r.MessageId] {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r.ReceiptHandle)})
		}
	}
	if len(del) > 0 {
		if _, err := p.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del}); err != nil {
			return len(ev.Records), len(failedIDs), fmt.Errorf("sqspoll: delete: %w", err)
		}
	}
	return len(ev.Records), len(failedIDs), herr
}

// convert builds the record Lambda would deliver.
func convert(m types.Message, arn string) events.SQSMessage {
	r := events.SQSMessage{
		MessageId:         aws.ToString(m.MessageId),
		ReceiptHandle:     aws.ToString(m.ReceiptHandle),
		Body:              aws.ToString(m.Body),
		Md5OfBody:         aws.ToString(m.MD5OfBody),
		Attributes:        m.Attributes,
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSource:       "aws:sqs",
		EventSourceARN:    arn,
		AWSRegion:         "us-east-1",
	}
	for k, v := range m.MessageAttributes {
		r.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType)}
	}
	return r
}
