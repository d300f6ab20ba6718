package dlq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Show writes one message for an operator: why it was parked, what
// Resonance answered (with the attempt and its claim time for an unknown
// outcome), the envelope's header, its signature's state (see
// CheckSignature) and who re-signed it, and the webhook's body, with every
// email address masked.
func Show(w io.Writer, m Message) {
	// Fields are gathered first so that their values line up past the
	// longest name (header names vary).
	var fields [][2]string
	var body string
	p := func(k, v string) {
		if v != "" {
			fields = append(fields, [2]string{k, MaskEmails(v)})
		}
	}
	defer func() {
		width := 0
		for _, f := range fields {
			width = max(width, len(f[0]))
		}
		for _, f := range fields {
			fmt.Fprintf(w, "%-*s  %s\n", width, f[0], strings.ReplaceAll(f[1], "\n", "\n"+strings.Repeat(" ", width+2)))
		}
		if body != "" {
			fmt.Fprint(w, body)
		}
	}()
	p("message", m.ID)
	p("reason", m.Reason())
	p("detail", m.Attrs["detail"])
	p("parked by", m.Attrs["source"])
	p("provider", m.Provider())
	p("reward key", m.Attrs["reward_key"])
	p("attempt", m.Attrs["attempt"])
	p("claimed at", m.Attrs["claimed_at"])
	p("receives", m.Attrs["receive_count"])
	p("resonance status", m.Attrs["http_status"])
	p("resonance answer", m.Attrs["resonance_response"])
	if !m.Sent.IsZero() {
		p("queued", m.Sent.UTC().Format(time.RFC3339))
	}
	env := m.Envelope
	if env == nil {
		p("body", "(not an envelope: "+describe([]byte(m.Body))+")")
		return
	}
	p("event type", env.EventType)
	p("delivery id", env.DeliveryID)
	p("received", env.ReceivedAt.UTC().Format(time.RFC3339))
	p("request id", env.RequestID)
	p("signature", m.Signature)
	p("re-signed by", env.ResignedBy)
	keys := make([]string, 0, len(env.Headers))
	for k := range env.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p("header "+k, env.Headers[k])
	}
	body = fmt.Sprintf("body (%d bytes):\n%s\n", len(env.Body), MaskEmails(describe(env.Body)))
}

// describe returns a body indented when it is JSON, as it is when it is
// text, and its size when it is binary.
func describe(b []byte) string {
	var out bytes.Buffer
	if json.Valid(b) && json.Indent(&out, b, "", "  ") == nil {
		return out.String()
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return fmt.Sprintf("%d bytes of binary data", len(b))
}
