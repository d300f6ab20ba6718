package resonance

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type creds struct{}

func (creds) Get(context.Context) (Credentials, error) { return Credentials{APIKey: "k"}, nil }

func client(url string, timeout time.Duration) *Client {
	return &Client{BaseURL: url, BrandID: "0xb", Credentials: creds{}, HTTP: &http.Client{Timeout: timeout}}
}

// TestAnswers: what a 2xx says decides whether it is a payment.
func TestAnswers(t *testing.T) {
	for _, c := range []struct {
		status        int
		body          string
		paid, refused bool
	}{
		{200, `{"success":true,"rewardAmount":10,"txHash":"0x1"}`, true, false},
		{201, `{"success":true}`, true, false},
		{200, `{"success":false,"error":"cooldown"}`, false, true},
		{200, ``, false, false},
		{200, `<html>ok</html>`, false, false},
		{200, `{"rewardAmount":10}`, false, false},
		{200, `{"success":"true"}`, false, false},
		{409, `{"success":false}`, false, false},
		{500, `{"success":true}`, false, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(c.body))
		}))
		resp, err := client(srv.URL, time.Second).Send(context.Background(), "k", []byte(`{}`))
		srv.Close()
		if err != nil {
			t.Fatalf("%d %s: %v", c.status, c.body, err)
		}
		if resp.Paid() != c.paid || resp.Refused() != c.refused {
			t.Errorf("%d %s: paid %v refused %v, want %v %v", c.status, c.body, resp.Paid(), resp.Refused(), c.paid, c.refused)
		}
	}
}

// TestSentOrNot: an error before the request left wraps ErrNotSent; one
// after Resonance had the request (a time-out, a connection cut before the
// answer) does not, and the request is not sent a second time.
func TestSentOrNot(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	_, err = client(closed, time.Second).Send(context.Background(), "k", []byte(`{}`))
	if !errors.Is(err, ErrNotSent) {
		t.Fatalf("connection refused: %v, want ErrNotSent", err)
	}

	// A server that reads the request and hangs up without answering, and
	// one that never answers: Resonance may have acted on either.
	var got atomic.Int32
	hangup, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hangup.Close()
	go func() {
		for {
			conn, err := hangup.Accept()
			if err != nil {
				return
			}
			go func() {
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err == nil && req.Header.Get("Idempotency-Key") == "k" {
					got.Add(1)
				}
				conn.Close()
			}()
		}
	}()
	_, err = client("http://"+hangup.Addr().String(), time.Second).Send(context.Background(), "k", []byte(`{}`))
	if err == nil || errors.Is(err, ErrNotSent) {
		t.Fatalf("hang-up after the request: %v, want an error of unknown outcome", err)
	}
	if n := got.Load(); n != 1 {
		t.Fatalf("the server received the request %d times, want 1 (never replayed by the transport)", n)
	}

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = client(slow.URL, 0).Send(ctx, "k", []byte(`{}`))
	if err == nil || errors.Is(err, ErrNotSent) || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("time-out: %v, want an error of unknown outcome", err)
	}
}
