// Package envelope defines the message the ingest functions put on the events
// queue: a small versioned JSON document that carries the webhook's exact raw
// bytes, so that the forwarder can map it and an operator can replay it.
package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Version is the envelope format written by this code.
const Version = 1

// MaxSQSMessageBytes is the most SQS carries in one message (body plus
// attributes): 1 MiB.
const MaxSQSMessageBytes = 1 << 20

// Sentinel errors of Decode.
var (
	ErrMalformed   = errors.New("envelope: malformed")
	ErrUnsupported = errors.New("envelope: unsupported version")
)

// Envelope is one authenticated webhook.
type Envelope struct {
	Version    int               `json:"v"`
	Provider   string            `json:"provider"`
	EventType  string            `json:"eventType"`
	DeliveryID string            `json:"deliveryId"`
	ReceivedAt time.Time         `json:"receivedAt"`
	RequestID  string            `json:"requestId,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	// Body holds the raw body when it is text that SQS can carry as it is;
	// BodyBase64 holds it otherwise. Exactly one is set.
	Body       *string `json:"body,omitempty"`
	BodyBase64 []byte  `json:"bodyBase64,omitempty"`
}

// SetBody stores raw in the envelope, as text when SQS accepts every
// character of it, base64 otherwise (invalid UTF-8, or U+FFFE/U+FFFF, which
// SQS rejects though they are valid UTF-8).
func (e *Envelope) SetBody(raw []byte) {
	if sqsText(raw) {
		s := string(raw)
		e.Body, e.BodyBase64 = &s, nil
		return
	}
	e.Body, e.BodyBase64 = nil, bytes.Clone(raw)
	if e.BodyBase64 == nil {
		e.BodyBase64 = []byte{}
	}
}

// RawBody returns the webhook's exact bytes.
func (e *Envelope) RawBody() []byte {
	if e.Body != nil {
		return []byte(*e.Body)
	}
	return e.BodyBase64
}

// sqsText reports whether b is valid UTF-8 without U+FFFE and U+FFFF. JSON
// escapes the control characters SQS refuses, so those need no check.
func sqsText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	// U+FFFE and U+FFFF are EF BF BE and EF BF BF.
	for i := 0; i+2 < len(b); i++ {
		if b[i] == 0xEF && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
			return false
		}
	}
	return true
}

// Encode returns the envelope as compact JSON, without HTML escaping.
func Encode(e *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(e.RawBody()) + 512)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("envelope: encode: %w", err)
	}
	b := buf.Bytes()
	return b[:len(b)-1], nil // drop Encoder's newline
}

// Decode parses and validates an envelope.
func Decode(b []byte) (*Envelope, error) {
	var probe struct {
		Version int `json:"v"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if probe.Version != Version {
		return nil, fmt.Errorf("%w: %d", ErrUnsupported, probe.Version)
	}
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case e.Provider == "":
		return nil, fmt.Errorf("%w: no provider", ErrMalformed)
	case e.EventType == "":
		return nil, fmt.Errorf("%w: no eventType", ErrMalformed)
	case (e.Body == nil) == (e.BodyBase64 == nil):
		return nil, fmt.Errorf("%w: exactly one of body and bodyBase64 must be set", ErrMalformed)
	}
	return &e, nil
}
