// Package envelope defines the message the ingest functions put on the events
// queue: one line of JSON that says what the webhook is (provider, event type,
// delivery id, when and through which request it arrived, the headers that
// matter), a newline, then the webhook's exact raw bytes. The forwarder maps
// it; an operator can read it in the console and replay it after a fix.
//
//	{"v":1,"provider":"stripe","eventType":"invoice.paid","deliveryId":"evt_1",...,"bodyBytes":63}
//	{"id":"evt_1","type":"invoice.paid",...}
//
// The body follows as it is when SQS can carry every character of it, and in
// base64 otherwise ("bodyEncoding":"base64"): invalid UTF-8, or U+FFFE and
// U+FFFF, which SQS refuses though they are valid UTF-8. Carrying the body
// raw rather than as an escaped JSON string keeps the message as small as
// the webhook and costs a copy, not an encoding pass.
package envelope

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Version is the envelope format written by this code.
const Version = 1

// MaxSQSMessageBytes is the most SQS carries in one message (body plus
// attributes): 1 MiB.
const MaxSQSMessageBytes = 1 << 20

// Body encodings.
const (
	EncodingText   = "text"
	EncodingBase64 = "base64"
)

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
	// ResignedBy names the operator who re-signed the envelope by hand
	// (make dlq replay -resign); signed, and logged by the forwarder.
	ResignedBy string `json:"resignedBy,omitempty"`
	// Sig is the relay's signature (see Sign).
	Sig string `json:"sig,omitempty"`
	// Body is the webhook's exact raw bytes.
	Body []byte `json:"-"`
}

// header is the first line: the envelope's fields and how the body follows.
type header struct {
	Envelope
	BodyEncoding string `json:"bodyEncoding,omitempty"` // "" is text
	BodyBytes    int    `json:"bodyBytes"`
}

// sqsText reports whether b is valid UTF-8 without U+FFFE and U+FFFF (EF BF
// BE and EF BF BF), and without the control characters SQS refuses (all
// below U+0020 but tab, newline and carriage return).
func sqsText(b []byte) bool {
	ok, ascii := scanText(b)
	if !ok {
		return false
	}
	if ascii { // the common case: nothing more to look for
		return true
	}
	if !utf8.Valid(b) {
		return false
	}
	for i := bytes.IndexByte(b, 0xEF); i >= 0 && i+2 < len(b); {
		if b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
			return false
		}
		j := bytes.IndexByte(b[i+1:], 0xEF)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return true
}

// noControl reports whether b has no byte below 0x20 but tab, LF and CR.
func noControl(b []byte) bool {
	ok, _ := scanText(b)
	return ok
}

// scanText reports whether b has no byte below 0x20 but tab, LF and CR
// (ok), and whether all its bytes are ASCII. It tests 64 bytes at a time,
// then a word at a time: (x - 0x20..20) | x has no high bit set exactly
// when every byte of the word x is in 0x20-0x7f (a byte below 0x20
// borrows, one above 0x7f has its own), and only other words are looked at
// byte by byte (pretty-printed JSON has newlines in some, text beyond
// ASCII others).
func scanText(b []byte) (ok, ascii bool) {
	const highs, spaces = 0x8080808080808080, 0x2020202020202020
	le := binary.LittleEndian
	odd := func(x uint64) bool { return ((x-spaces)|x)&highs != 0 }
	ascii = true
	i := 0
	for ; i+64 <= len(b); i += 64 {
		w := b[i : i+64 : i+64]
		x0, x1, x2, x3 := le.Uint64(w), le.Uint64(w[8:]), le.Uint64(w[16:]), le.Uint64(w[24:])
		x4, x5, x6, x7 := le.Uint64(w[32:]), le.Uint64(w[40:]), le.Uint64(w[48:]), le.Uint64(w[56:])
		if ((x0-spaces)|x0|(x1-spaces)|x1|(x2-spaces)|x2|(x3-spaces)|x3|
			(x4-spaces)|x4|(x5-spaces)|x5|(x6-spaces)|x6|(x7-spaces)|x7)&highs == 0 {
			continue
		}
		for j := 0; j < 64; j += 8 {
			if v := w[j : j+8]; odd(le.Uint64(v)) {
				if !plainBytes(v) {
					return false, false
				}
				ascii = ascii && asciiBytes(v)
			}
		}
	}
	return plainBytes(b[i:]), ascii && asciiBytes(b[i:])
}

// asciiBytes reports whether every byte of b is below 0x80.
func asciiBytes(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plainBytes is noControl byte by byte.
func plainBytes(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// Encode returns the message: the header line, a newline, the body. The
// header is written by hand (it is on every webhook's path); Decode reads it
// with encoding/json.
func Encode(e *Envelope) string {
	text := sqsText(e.Body)
	var buf [512]byte // the header, on the stack unless it outgrows it
	var hb [8]kept
	var tb [40]byte
	hdr, _ := appendHeader(buf[:0], e, text, sortedHeaders(hb[:0], e.Headers), stamp(&tb, e.ReceivedAt))
	if text { // one allocation: the message
		msg := make([]byte, 0, len(hdr)+len(e.Body))
		msg = append(append(msg, hdr...), e.Body...)
		return unsafe.String(unsafe.SliceData(msg), len(msg))
	}
	return encodeBase64(hdr, e.Body)
}

// appendHeader appends e's header line and its newline; sigAt is where
// e.Sig starts in it (-1 when e has none). text says whether the body
// follows as it is; headers are e's headers in order, received its
// ReceivedAt formatted (stamp).
func appendHeader(hdr []byte, e *Envelope, text bool, headers []kept, received []byte) (_ []byte, sigAt int) {
	hdr = append(hdr, `{"v":`...)
	hdr = strconv.AppendInt(hdr, int64(e.Version), 10)
	hdr = appendField(hdr, "provider", e.Provider)
	hdr = appendField(hdr, "eventType", e.EventType)
	hdr = appendField(hdr, "deliveryId", e.DeliveryID)
	hdr = append(hdr, `,"receivedAt":"`...)
	hdr = append(hdr, received...)
	hdr = append(hdr, '"')
	if e.RequestID != "" {
		hdr = appendField(hdr, "requestId", e.RequestID)
	}
	if len(e.Headers) > 0 {
		hdr = append(hdr, `,"headers":{`...)
		for i, h := range headers {
			if i > 0 {
				hdr = append(hdr, ',')
			}
			hdr = appendString(hdr, h.name)
			hdr = append(hdr, ':')
			hdr = appendString(hdr, h.value)
		}
		hdr = append(hdr, '}')
	}
	if e.ResignedBy != "" {
		hdr = appendField(hdr, "resignedBy", e.ResignedBy)
	}
	sigAt = -1
	if e.Sig != "" {
		hdr = append(hdr, `,"sig":`...)
		sigAt = len(hdr) + 1 // past the quote (a signature has nothing to escape)
		hdr = appendString(hdr, e.Sig)
	}
	if !text {
		hdr = appendField(hdr, "bodyEncoding", EncodingBase64)
	}
	hdr = append(hdr, `,"bodyBytes":`...)
	hdr = strconv.AppendInt(hdr, int64(len(e.Body)), 10)
	return append(hdr, "}\n"...), sigAt
}

// encodeBase64 is the message of a body that SQS cannot carry as it is.
func encodeBase64(hdr, body []byte) string {
	var sb strings.Builder
	sb.Grow(len(hdr) + base64.StdEncoding.EncodedLen(len(body)))
	sb.Write(hdr)
	w := base64.NewEncoder(base64.StdEncoding, &sb)
	_, _ = w.Write(body)
	_ = w.Close()
	return sb.String()
}

// stamp formats t as the header carries it (RFC 3339, nanoseconds).
func stamp(buf *[40]byte, t time.Time) []byte { return t.AppendFormat(buf[:0], time.RFC3339Nano) }

func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

// appendString writes s as a JSON string that SQS accepts: quotes,
// backslashes and control characters escaped, invalid UTF-8 as U+FFFD, and
// U+FFFE and U+FFFF escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		if j := plainRun(s[i:]); j > 0 { // most strings are plain ASCII: copied in one go
			b = append(b, s[i:i+j]...)
			i += j
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == 0xFFFE || r == 0xFFFF:
			b = append(b, '\\', 'u', 'f', 'f', 'f', hex[r&0xF])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// plainRun is how many bytes at the start of s are printable ASCII other
// than '"' and '\\': written as they are.
func plainRun(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) &^ v } // & highs != 0: some byte of v is 0
	i := 0
	for ; i+8 <= len(s); i += 8 { // eight bytes at a time while none is special:
		x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		// a high bit (not ASCII), a byte with neither 0x40 nor 0x20 set
		// (below 0x20, once ASCII), a quote or a backslash
		if (x|zero(x&0x6060606060606060)|zero(x^0x2222222222222222)|zero(x^0x5c5c5c5c5c5c5c5c))&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return i
		}
	}
	return len(s)
}

// Decode parses and validates a message.
func Decode(msg []byte) (*Envelope, error) {
	line, body, ok := bytes.Cut(msg, []byte{'\n'})
	if !ok {
		return nil, fmt.Errorf("%w: no newline after the header", ErrMalformed)
	}
	var probe struct {
		Version int `json:"v"`
	}
	if err := json.Unmarshal(line, &probe); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if probe.Version != Version {
		return nil, fmt.Errorf("%w: %d", ErrUnsupported, probe.Version)
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	switch h.BodyEncoding {
	case "", EncodingText:
		h.Body = bytes.Clone(body)
	case EncodingBase64:
		b, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: body: %v", ErrMalformed, err)
		}
		h.Body = b
	default:
		return nil, fmt.Errorf("%w: unknown bodyEncoding %q", ErrMalformed, h.BodyEncoding)
	}
	switch {
	case h.Provider == "":
		return nil, fmt.Errorf("%w: no provider", ErrMalformed)
	case h.EventType == "":
		return nil, fmt.Errorf("%w: no eventType", ErrMalformed)
	case len(h.Body) != h.BodyBytes:
		return nil, fmt.Errorf("%w: body has %d bytes, the header says %d", ErrMalformed, len(h.Body), h.BodyBytes)
	}
	e := h.Envelope
	return &e, nil
}
