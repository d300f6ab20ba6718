package devstack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// ForgedSecret signs the forged samples; it is in no configuration.
const ForgedSecret = "whsec_Zm9yZ2VkLW5vdC1hLXJlYWwtc2VjcmV0"

// SampleTime is when the checked-in samples in events/ are signed. They stay
// as they are (signing is deterministic but for an envelope's nonce, so a
// forwarder sample keeps the signature it was checked in with while what it
// signs is unchanged; a test regenerates them at this time and compares);
// what needs a fresh signature signs a copy at use: make invoke in memory,
// make events into .aws-sam/events/.
var SampleTime = time.UnixMilli(1795421606861).UTC()

// CopySamples copies the samples folder from to the folder to (created),
// for signing there.
func CopySamples(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// SignEvent re-signs the sample API Gateway event in file for provider at
// when with secret (ForgedSecret for a forged one), in memory.
func SignEvent(file, provider, secret string, when time.Time) ([]byte, error) {
	_, tidy, err := signEvent(file, provider, secret, when)
	if err != nil {
		return nil, err
	}
	return json.Marshal(tidy)
}

// SecretFor is the secret a sample file is signed with: ForgedSecret for
// forged*.json, else the first secret in localFile of the provider's own
// secret (<Provider>WebhookSecret).
func SecretFor(file, provider, localFile string) (string, error) {
	if strings.HasPrefix(filepath.Base(file), "forged") {
		return ForgedSecret, nil
	}
	lf, err := LoadLocalFile(localFile)
	if err != nil {
		return "", err
	}
	ws, err := lf.WebhookSecrets()
	if err != nil {
		return "", fmt.Errorf("%s: %w", localFile, err)
	}
	if len(ws[provider]) == 0 {
		return "", fmt.Errorf("%s: no secret for %s", localFile, provider)
	}
	return string(ws[provider][0]), nil
}

// EnvelopeKey is the local envelope key in localFile (its EnvelopeKey).
func EnvelopeKey(localFile string) ([]byte, error) {
	lf, err := LoadLocalFile(localFile)
	if err != nil {
		return nil, err
	}
	var key string
	if err := json.Unmarshal(lf.Secrets["EnvelopeKey"], &key); err != nil {
		return nil, fmt.Errorf("%s: EnvelopeKey is not a string: %w", localFile, err)
	}
	keys, err := envelope.ParseKeys(key)
	if err != nil {
		return nil, fmt.Errorf("%s: EnvelopeKey: %w", localFile, err)
	}
	return keys[0], nil
}

// SignSamples re-signs every ingest sample under dir (events/) at when
// with the local development secrets, forged*.json with ForgedSecret, and
// writes dir/ForwarderFunction/ from the genuine ones. It returns how many
// files it wrote.
func SignSamples(dir string, when time.Time) (int, error) {
	local := filepath.Join(dir, "local-secrets.json")
	envKey, err := EnvelopeKey(local)
	if err != nil {
		return 0, err
	}
	n := 0
	var forwarder, batch []events.SQSMessage
	if err := os.MkdirAll(filepath.Join(dir, "ForwarderFunction"), 0o755); err != nil {
		return 0, err
	}
	prev := previousBodies(filepath.Join(dir, "ForwarderFunction"))
	for _, p := range providers.Names() { // the specs' order: batch.json is the first ten
		files, _ := filepath.Glob(filepath.Join(dir, samples.Spec(p).FunctionID, "*.json"))
		for _, f := range files {
			p := WithSource(p, f)
			secret, err := SecretFor(f, p, local)
			if err != nil {
				return n, err
			}
			ev, err := signFile(f, p, secret, when)
			if err != nil {
				return n, fmt.Errorf("%s: %w", f, err)
			}
			n++
			if secret != ForgedSecret {
				name := strings.ReplaceAll(p, ":", "-") + "-" + filepath.Base(f)
				msg, err := sqsMessage(p, name, ev, envKey)
				if err != nil {
					return n, fmt.Errorf("%s: %w", f, err)
				}
				keepSignature(&msg, prev, envKey)
				forwarder = append(forwarder, msg)
				if !reverses(msg) {
					batch = append(batch, msg)
				}
				if err := writeJSON(filepath.Join(dir, "ForwarderFunction", name), events.SQSEvent{Records: []events.SQSMessage{msg}}); err != nil {
					return n, err
				}
			}
		}
	}
	if err := writeJSON(filepath.Join(dir, "ForwarderFunction", "batch.json"), events.SQSEvent{Records: batchOf(batch)}); err != nil {
		return n, err
	}
	// What someone who can write to the events queue, but is not the relay,
	// could send: the first sample, signed with another key.
	forged := forwarder[0]
	env, err := envelope.Decode([]byte(forged.Body))
	if err != nil {
		return n, err
	}
	if err := envelope.Sign(env, []byte(ForgedSecret)); err != nil {
		return n, err
	}
	forged.Body, forged.MessageId = envelope.Encode(env), "sample-forged"
	keepSignature(&forged, prev, []byte(ForgedSecret))
	if err := writeJSON(filepath.Join(dir, "ForwarderFunction", "forged.json"), events.SQSEvent{Records: []events.SQSMessage{forged}}); err != nil {
		return n, err
	}
	return n + len(forwarder) + 2, nil
}

// previousBodies reads the envelopes of the forwarder samples in dir, by
// message id.
func previousBodies(dir string) map[string]string {
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		var ev events.SQSEvent
		if raw, err := os.ReadFile(f); err == nil && json.Unmarshal(raw, &ev) == nil {
			for _, r := range ev.Records {
				out[r.MessageId] = r.Body
			}
		}
	}
	return out
}

// keepSignature puts back msg's previous envelope when it verifies with key
// and signs exactly what msg's does: each signature draws a random nonce,
// and a sample regenerated unchanged stays as it was checked in.
func keepSignature(msg *events.SQSMessage, prev map[string]string, key []byte) {
	old, err := envelope.Decode([]byte(prev[msg.MessageId]))
	if err != nil || envelope.Verify(old, [][]byte{key}) != nil {
		return
	}
	cur, err := envelope.Decode([]byte(msg.Body))
	if err != nil {
		return
	}
	old.Sig, cur.Sig = "", ""
	if envelope.Encode(old) == envelope.Encode(cur) {
		msg.Body = prev[msg.MessageId]
	}
}

// WithSource is provider's name as a delivery in file names it: for a
// sample with a {source} path parameter, "<provider>:<source>".
func WithSource(provider, file string) string {
	var ev events.APIGatewayV2HTTPRequest
	if raw, err := os.ReadFile(file); err == nil && json.Unmarshal(raw, &ev) == nil && ev.PathParameters["source"] != "" {
		return provider + ":" + ev.PathParameters["source"]
	}
	return provider
}

// MaxBatch is the most records the events queue delivers at once (the
// template's BatchSize, SQS's limit for a standard queue without a window).
const MaxBatch = 10

// batchOf is batch.json's records: the first MaxBatch of msgs, in the
// specs' order (providers.All: among them both Stripe samples, one payment's checkout
// session and charge, which share a reward key). Every sample is also in a
// file of its own; the reversal samples (refunds, cancellations, disputes)
// are only there, so that the batch stays rewards (reverses).
func batchOf(msgs []events.SQSMessage) []events.SQSMessage {
	return msgs[:min(MaxBatch, len(msgs))]
}

// reverses says whether the sample in msg maps to a reversal under the
// default mapping.
func reverses(msg events.SQSMessage) bool {
	env, err := envelope.Decode([]byte(msg.Body))
	if err != nil {
		return false
	}
	cfgs, err := providers.LoadMapping("")
	if err != nil {
		return false
	}
	name, _, _ := strings.Cut(env.Provider, ":")
	m, ok := samples.Mappers()[name]
	if !ok {
		return false
	}
	res, err := m.Map(env, cfgs[name])
	return err == nil && len(res.Reversals) > 0
}

// sqsMessage wraps the envelope the ingest function would queue for ev in
// the record Lambda's SQS event source delivers.
func sqsMessage(provider, name string, ev events.APIGatewayV2HTTPRequest, envKey []byte) (events.SQSMessage, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return events.SQSMessage{}, err
		}
	}
	d, err := samples.Verifier(provider).Parse(&webhook.Request{Header: webhook.NewHeader(ev.Headers), Body: body, Source: ev.PathParameters["source"]})
	if err != nil {
		return events.SQSMessage{}, err
	}
	at := time.UnixMilli(ev.RequestContext.TimeEpoch).UTC()
	env := &envelope.Envelope{Version: envelope.Version, Provider: provider, EventType: d.EventType, DeliveryID: d.DeliveryID,
		ReceivedAt: at, RequestID: ev.RequestContext.RequestID, Headers: d.Headers, Body: body}
	if err := envelope.Sign(env, envKey); err != nil {
		return events.SQSMessage{}, err
	}
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
	ev, tidy, err := signEvent(path, provider, secret, when)
	if err != nil {
		return ev, err
	}
	return ev, writeJSON(path, tidy)
}

// signEvent returns the event in path signed at when, and the same as a
// map without the empty client-certificate block.
func signEvent(path, provider, secret string, when time.Time) (events.APIGatewayV2HTTPRequest, map[string]any, error) {
	var ev events.APIGatewayV2HTTPRequest
	raw, err := os.ReadFile(path)
	if err != nil {
		return ev, nil, err
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, nil, err
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return ev, nil, err
		}
	}
	if ev.RequestContext.TimeEpoch > 0 { // bodies that carry their own time (spec.BodyTimes): as recent as when signed
		body = samples.Freshen(provider, body, time.UnixMilli(ev.RequestContext.TimeEpoch), when)
	}
	url := "https://" + ev.RequestContext.DomainName + ev.RawPath
	headers, err := samples.Sign(provider, spec.Delivery{Body: body, URL: url, At: when, Headers: ev.Headers}, secret)
	if err != nil {
		return ev, nil, err
	}
	out := apigw.Event(apigw.Request{
		Method: ev.RequestContext.HTTP.Method, Path: ev.RawPath, Query: ev.RawQueryString,
		Domain: ev.RequestContext.DomainName, Headers: headers, Body: body,
		SourceIP: ev.RequestContext.HTTP.SourceIP, RequestID: ev.RequestContext.RequestID, Time: when,
		Route: strings.TrimPrefix(ev.RouteKey, ev.RequestContext.HTTP.Method+" "), Params: ev.PathParameters,
	})
	// aws-lambda-go writes an empty client-certificate block that AWS never
	// sends without mutual TLS; drop it so the samples read as AWS's do.
	b, err := json.Marshal(out)
	if err != nil {
		return ev, nil, err
	}
	var tidy map[string]any
	if err := json.Unmarshal(b, &tidy); err != nil {
		return ev, nil, err
	}
	delete(tidy["requestContext"].(map[string]any), "authentication")
	return out, tidy, nil
}
