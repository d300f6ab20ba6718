package devstack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// ForgedSecret signs the forged samples; it is in no configuration.
const ForgedSecret = "whsec_Zm9yZ2VkLW5vdC1hLXJlYWwtc2VjcmV0"

// SignSamples re-signs every ingest sample under dir (events/) at when
// with the local development secrets, forged*.json with ForgedSecret, and
// writes dir/ForwarderFunction/ from the genuine ones. It returns how many
// files it wrote.
func SignSamples(dir string, when time.Time) (int, error) {
	lf, err := LoadLocalFile(filepath.Join(dir, "local-secrets.json"))
	if err != nil {
		return 0, err
	}
	webhook, err := secrets.ParseWebhookSecrets(string(lf.Secrets["WebhookSecret"]))
	if err != nil {
		return 0, fmt.Errorf("local-secrets.json: %w", err)
	}
	n := 0
	var forwarder []events.SQSMessage
	if err := os.MkdirAll(filepath.Join(dir, "ForwarderFunction"), 0o755); err != nil {
		return 0, err
	}
	names := append([]string(nil), providers.Names...)
	sort.Strings(names)
	for _, p := range names {
		files, _ := filepath.Glob(filepath.Join(dir, providers.FunctionIDs[p], "*.json"))
		for _, f := range files {
			secret := ForgedSecret
			if !strings.HasPrefix(filepath.Base(f), "forged") {
				if len(webhook[p]) == 0 {
					return n, fmt.Errorf("no local secret for %s", p)
				}
				secret = string(webhook[p][0])
			}
			ev, err := signFile(f, p, secret, when)
			if err != nil {
				return n, fmt.Errorf("%s: %w", f, err)
			}
			n++
			if secret != ForgedSecret {
				name := p + "-" + filepath.Base(f)
				msg, err := sqsMessage(p, name, ev)
				if err != nil {
					return n, fmt.Errorf("%s: %w", f, err)
				}
				forwarder = append(forwarder, msg)
				if err := writeJSON(filepath.Join(dir, "ForwarderFunction", name), events.SQSEvent{Records: []events.SQSMessage{msg}}); err != nil {
					return n, err
				}
			}
		}
	}
	if err := writeJSON(filepath.Join(dir, "ForwarderFunction", "batch.json"), events.SQSEvent{Records: forwarder}); err != nil {
		return n, err
	}
	return n + len(forwarder) + 1, nil
}

// sqsMessage wraps the envelope the ingest function would queue for ev in
// the record Lambda's SQS event source delivers.
func sqsMessage(provider, name string, ev events.APIGatewayV2HTTPRequest) (events.SQSMessage, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return events.SQSMessage{}, err
		}
	}
	d, err := providers.ByName[provider].Parse(&webhook.Request{Header: webhook.NewHeader(ev.Headers), Body: body})
	if err != nil {
		return events.SQSMessage{}, err
	}
	at := time.UnixMilli(ev.RequestContext.TimeEpoch).UTC()
	env := &envelope.Envelope{Version: envelope.Version, Provider: provider, EventType: d.EventType, DeliveryID: d.DeliveryID,
		ReceivedAt: at, RequestID: ev.RequestContext.RequestID, Headers: d.Headers, Body: body}
	b := envelope.Encode(env)
	id := strings.TrimSuffix(name, ".json")
	return events.SQSMessage{
		MessageId: "sample-" + id, ReceiptHandle: "sample-receipt-" + id, Body: b,
		Attributes: map[string]string{
			"ApproximateReceiveCount": "1", "SentTimestamp": fmt.Sprint(at.UnixMilli()),
			"SenderId": "AROAEXAMPLE:ingest", "ApproximateFirstReceiveTimestamp": fmt.Sprint(at.UnixMilli()),
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{"provider": {StringValue: &provider, DataType: "String"}},
		EventSource:       "aws:sqs",
		EventSourceARN:    "arn:aws:sqs:us-east-1:123456789012:resonance-relay-EventsQueue",
		AWSRegion:         "us-east-1",
	}, nil
}

func writeJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func signFile(path, provider, secret string, when time.Time) (events.APIGatewayV2HTTPRequest, error) {
	var ev events.APIGatewayV2HTTPRequest
	raw, err := os.ReadFile(path)
	if err != nil {
		return ev, err
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, err
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return ev, err
		}
	}
	url := "https://" + ev.RequestContext.DomainName + ev.RawPath
	headers, err := providers.Sign(provider, providers.Delivery{Body: body, URL: url, At: when, Headers: ev.Headers}, secret)
	if err != nil {
		return ev, err
	}
	out := apigw.Event(apigw.Request{
		Method: ev.RequestContext.HTTP.Method, Path: ev.RawPath, Query: ev.RawQueryString,
		Domain: ev.RequestContext.DomainName, Headers: headers, Body: body,
		SourceIP: ev.RequestContext.HTTP.SourceIP, RequestID: ev.RequestContext.RequestID, Time: when,
	})
	// aws-lambda-go writes an empty client-certificate block that AWS never
	// sends without mutual TLS; drop it so the samples read as AWS's do.
	b, err := json.Marshal(out)
	if err != nil {
		return ev, err
	}
	var tidy map[string]any
	if err := json.Unmarshal(b, &tidy); err != nil {
		return ev, err
	}
	delete(tidy["requestContext"].(map[string]any), "authentication")
	return out, writeJSON(path, tidy)
}
