package release

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
)

type fakeLedger struct {
	due    []ledger.Due
	taken  map[string]bool // leased by another run
	leased map[string]time.Time
	err    error
}

func (f *fakeLedger) Due(context.Context, time.Time, int) ([]ledger.Due, error) { return f.due, f.err }
func (f *fakeLedger) Lease(_ context.Context, d ledger.Due, until time.Time) (bool, error) {
	if f.taken[d.PK] {
		return false, nil
	}
	if f.leased == nil {
		f.leased = map[string]time.Time{}
	}
	f.leased[d.PK] = until
	return true, nil
}

type fakeQueue struct {
	sent []string
	fail map[string]bool
}

func (q *fakeQueue) Send(_ context.Context, body string, _ map[string]string) error {
	env, err := envelope.Decode([]byte(body))
	if err != nil {
		return err
	}
	if q.fail[env.DeliveryID] {
		return errors.New("queue unavailable")
	}
	q.sent = append(q.sent, body)
	return nil
}

var key = []byte("release-test-envelope-key-0123456789abcdef")

// TestRun: each due reward is leased, then queued as a signed release
// envelope the forwarder verifies; one leased by another run is left to
// it; a failed send is an error (the function's alarm) and is queued again
// by a later run once its lease ends.
func TestRun(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	l := &fakeLedger{due: []ledger.Due{{PK: "a"}, {PK: "shadow|b"}, {PK: "c"}, {PK: "d"}}, taken: map[string]bool{"c": true}}
	q := &fakeQueue{fail: map[string]bool{"release:d": true}}
	r := &Releaser{Ledger: l, Events: q, Envelopes: envelope.StaticKeys{key}, Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	res, err := r.Run(context.Background())
	if err == nil || res != (Result{Due: 4, Queued: 2, Lost: 1}) {
		t.Fatalf("run: %+v %v", res, err)
	}
	if got := l.leased["a"]; !got.Equal(now.Add(DefaultLease)) {
		t.Fatalf("lease until %s", got)
	}
	for i, want := range []string{"a", "shadow|b"} {
		env, err := envelope.Decode([]byte(q.sent[i]))
		if err != nil {
			t.Fatal(err)
		}
		if err := envelope.Verify(env, [][]byte{key}); err != nil {
			t.Fatalf("release %d does not verify: %v", i, err)
		}
		if env.Provider != ledger.ReleaseProvider || env.EventType != ledger.ReleaseType || string(env.Body) != `{"pk":"`+want+`"}` {
			t.Fatalf("release %d: %+v %s", i, env, env.Body)
		}
	}
	if err := r.Handle(context.Background()); err == nil {
		t.Fatal("Handle hid the failed send")
	}
	quiet := &Releaser{Ledger: &fakeLedger{}, Events: q, Envelopes: envelope.StaticKeys{key}}
	if err := quiet.Handle(context.Background()); err != nil {
		t.Fatalf("an idle run: %v", err)
	}
	noKey := &Releaser{Ledger: &fakeLedger{due: []ledger.Due{{PK: "a"}}}, Events: q, Envelopes: envelope.StaticKeys{}}
	if _, err := noKey.Run(context.Background()); err == nil {
		t.Fatal("queued without an envelope key")
	}
}

// TestRunStopsBeforeItsDeadline: a run whose invocation is about to end
// leases and queues nothing more: what it leaves is the next run's, not
// leased for 15 minutes and cut off by a time-out (an error for the
// alarm).
func TestRunStopsBeforeItsDeadline(t *testing.T) {
	l := &fakeLedger{due: []ledger.Due{{PK: "a"}, {PK: "b"}}}
	q := &fakeQueue{}
	r := &Releaser{Ledger: l, Events: q, Envelopes: envelope.StaticKeys{key}}
	ctx, cancel := context.WithTimeout(context.Background(), runMargin-time.Second)
	defer cancel()
	res, err := r.Run(ctx)
	if err != nil || res.Left != 2 || res.Queued != 0 || len(l.leased) != 0 || len(q.sent) != 0 {
		t.Fatalf("a run out of time: %+v, leased %v, %v", res, l.leased, err)
	}
}
