package envelope

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRoundTripKeepsExactBytes(t *testing.T) {
	for _, c := range []struct {
		name   string
		body   []byte
		base64 bool
	}{
		{"json with html, unicode and newlines", []byte("{\"note\":\"<b>&</b> café \u2028 ☃\",\n\"id\":820982911946154508}\n"), false},
		{"control characters", []byte("{\"a\":\"\x00\x01\x1f\"}"), true},
		{"invalid utf-8", []byte{'{', 0xff, 0xfe, '}'}, true},
		{"U+FFFF, valid UTF-8 that SQS refuses", []byte("{\"a\":\"\uffff\"}"), true},
		{"U+FFFD is fine", []byte("{\"a\":\"\ufffd\"}"), false},
		{"empty", []byte{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &Envelope{Version: Version, Provider: "shopify", EventType: "orders/paid", DeliveryID: "d", ReceivedAt: time.Unix(1, 0).UTC(), Body: c.body}
			msg := Encode(e)
			if got := strings.Contains(msg, `"bodyEncoding":"base64"`); got != c.base64 {
				t.Fatalf("base64 = %v, want %v: %q", got, c.base64, msg)
			}
			if strings.ContainsAny(msg, "\x00\x01\x1f\uffff") {
				t.Fatalf("message carries characters SQS refuses: %q", msg)
			}
			got, err := Decode([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Body, c.body) || got.Provider != "shopify" || got.DeliveryID != "d" {
				t.Fatalf("Decode = %+v, want the body %q back", got, c.body)
			}
		})
	}
}

func TestTextBodyFollowsAsItIs(t *testing.T) {
	e := &Envelope{Version: Version, Provider: "p", EventType: "t", Body: []byte(`{"a":"<&>"}`)}
	msg := Encode(e)
	if !strings.HasSuffix(msg, "\n{\"a\":\"<&>\"}") || strings.Count(msg, "\n") != 1 {
		t.Fatalf("Encode = %q", msg)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{"not json\n{}", ErrMalformed},
		{`{"v":1,"provider":"p","eventType":"t","bodyBytes":0}`, ErrMalformed}, // no newline
		{"{\"v\":2,\"provider\":\"p\",\"eventType\":\"t\",\"bodyBytes\":0}\n", ErrUnsupported},
		{"{\"provider\":\"p\",\"eventType\":\"t\",\"bodyBytes\":0}\n", ErrUnsupported},
		{"{\"v\":1,\"eventType\":\"t\",\"bodyBytes\":0}\n", ErrMalformed},
		{"{\"v\":1,\"provider\":\"p\",\"bodyBytes\":0}\n", ErrMalformed},
		{"{\"v\":1,\"provider\":\"p\",\"eventType\":\"t\",\"bodyBytes\":5}\n{}", ErrMalformed},
		{"{\"v\":1,\"provider\":\"p\",\"eventType\":\"t\",\"bodyBytes\":1,\"bodyEncoding\":\"base64\"}\n!!", ErrMalformed},
		{"{\"v\":1,\"provider\":\"p\",\"eventType\":\"t\",\"bodyBytes\":2,\"bodyEncoding\":\"gzip\"}\n{}", ErrMalformed},
		{"{\"v\":1,\"provider\":\"p\",\"eventType\":\"t\",\"receivedAt\":\"yesterday\",\"bodyBytes\":0}\n", ErrMalformed},
	} {
		if _, err := Decode([]byte(c.in)); !errors.Is(err, c.want) {
			t.Errorf("Decode(%q) = %v, want %v", c.in, err, c.want)
		}
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts encodes and
// decodes again to the same body. Seeds: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("{\"v\":1,\"provider\":\"shopify\",\"eventType\":\"orders/paid\",\"deliveryId\":\"e1\",\"receivedAt\":\"2026-01-01T00:00:00Z\",\"bodyBytes\":2}\n{}"))
	f.Add([]byte("{\"v\":1,\"provider\":\"p\",\"eventType\":\"t\",\"bodyEncoding\":\"base64\",\"bodyBytes\":1}\n/w=="))
	f.Add([]byte("{\"v\":1.0,\"provider\":\"p\",\"eventType\":\"t\",\"bodyBytes\":0}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := Decode(in)
		if err != nil {
			return
		}
		again, err := Decode([]byte(Encode(e)))
		if err != nil || !bytes.Equal(again.Body, e.Body) {
			t.Fatalf("round trip lost the body: %v", err)
		}
	})
}

// TestHeaderMatchesEncodingJSON: the hand-written header decodes to the same
// fields as it was given, for awkward strings too.
func TestHeaderMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te \ back`, "tab\tnl\ncr\r\x01\x1f", "café ☃ \u2028", "bad\xffutf8", "\ufffe\uffff", "<&>"} {
		e := &Envelope{Version: Version, Provider: s + "p", EventType: s + "t", DeliveryID: s, RequestID: s,
			ReceivedAt: time.Date(2026, 11, 23, 7, 0, 0, 123456789, time.UTC), Headers: map[string]string{"b" + s: s, "a": s}}
		msg := Encode(e)
		line, _, _ := strings.Cut(msg, "\n")
		if strings.ContainsAny(line, "\x00\x01\x1f\uffff\ufffe\r\t") {
			t.Fatalf("header carries raw characters SQS refuses or newlines: %q", line)
		}
		got, err := Decode([]byte(msg))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if got.DeliveryID != want || got.Provider != want+"p" || got.Headers["b"+want] != want || !got.ReceivedAt.Equal(e.ReceivedAt) {
			t.Fatalf("%q: decoded %+v", s, got)
		}
	}
}

func TestNoControl(t *testing.T) {
	for i := range 40 {
		for _, c := range []byte{0, 1, 0x1f, '\t', '\n', '\r', 0x20, 0x7f, 0x80, 0xff} {
			b := bytes.Repeat([]byte("a"), 40)
			b[i] = c
			want := c >= 0x20 || c == '\t' || c == '\n' || c == '\r'
			if got := noControl(b); got != want {
				t.Fatalf("byte %#x at %d: noControl = %v, want %v", c, i, got, want)
			}
		}
	}
}

// FuzzSQSText: sqsText, which reads 32 bytes at a time, says what a rune
// by rune reading says: valid UTF-8, no U+FFFE or U+FFFF, and no control
// character but tab, newline and carriage return.
func FuzzSQSText(f *testing.F) {
	for _, s := range []string{"", "{\"a\":1}", strings.Repeat("abcdefgh", 9) + "\x01", strings.Repeat("é", 40), strings.Repeat("x", 31) + "\uffff",
		strings.Repeat("\t\n\r ", 20), strings.Repeat("y", 64) + "\xff", "\x7f\x1f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := utf8.Valid(b)
		for _, r := range string(b) {
			if r == 0xFFFE || r == 0xFFFF || r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				want = false
			}
		}
		if got := sqsText(b); got != want {
			t.Fatalf("sqsText(%q) = %v, want %v", b, got, want)
		}
	})
}

// FuzzPlainRun: plainRun, which reads eight bytes at a time, stops where a
// byte by byte reading stops: at the first byte below 0x20, beyond ASCII, a
// quote or a backslash.
func FuzzPlainRun(f *testing.F) {
	for _, s := range []string{"", "plain ascii text, long enough", "0123456\"", "01234567\\x", "abcdefgh\x1fijk", "abcdefg\x7f\x80", "~~~~~~~~ ", "\x20\x40\x60\x7e\x21\x5b\x5d\x5c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s)
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				want = i
				break
			}
		}
		if got := plainRun(s); got != want {
			t.Fatalf("plainRun(%q) = %d, want %d", s, got, want)
		}
	})
}

// TestSortedHeaders: by name, whether few (insertion sort) or many.
func TestSortedHeaders(t *testing.T) {
	for _, n := range []int{0, 1, 2, 8, 9, 30} {
		h := map[string]string{}
		for i := range n {
			h[fmt.Sprintf("x-%02d", (i*7)%31)] = fmt.Sprint(i)
		}
		got := sortedHeaders(nil, h)
		if len(got) != len(h) || !slices.IsSortedFunc(got, func(a, b kept) int { return strings.Compare(a.name, b.name) }) {
			t.Fatalf("%d headers: %v", n, got)
		}
		for _, k := range got {
			if h[k.name] != k.value {
				t.Fatalf("%s: %q, want %q", k.name, k.value, h[k.name])
			}
		}
	}
}
