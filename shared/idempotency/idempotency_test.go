package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awstest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/idemtest"
)

// clock is a settable time for both stores.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// step is one call and what it must return.
type step struct {
	op       string // claim, takeover, complete, release, unknown, wait
	who      string // which claimant's token release/unknown use
	takeover int
	wait     time.Duration
	want     idempotency.Outcome
	attempt  int    // claim: the record's attempt, when > 0
	detail   string // claim: a substring of the record's detail
	err      error  // release/unknown: errors.Is
}

var cases = []struct {
	name  string
	steps []step
}{
	{"paid once, then a duplicate", []step{
		{op: "claim", who: "a", want: idempotency.Claimed, attempt: 1},
		{op: "claim", want: idempotency.HeldElsewhere},
		{op: "complete"},
		{op: "claim", want: idempotency.AlreadyCompleted},
		{op: "wait", wait: 2 * time.Minute},
		{op: "claim", want: idempotency.AlreadyCompleted},
	}},
	{"released after a sure failure: claimed again", []step{
		{op: "claim", who: "a", want: idempotency.Claimed},
		{op: "release", who: "a"},
		{op: "claim", want: idempotency.Claimed, attempt: 1},
	}},
	{"a re-send released after a sure failure keeps its attempt count", []step{
		{op: "claim", who: "a", want: idempotency.Claimed},
		{op: "unknown", who: "a"},
		{op: "takeover", who: "b", takeover: 1, want: idempotency.Claimed, attempt: 2},
		{op: "release", who: "b"},
		{op: "claim", who: "c", want: idempotency.Claimed, attempt: 3},
		{op: "claim", want: idempotency.HeldElsewhere},
		{op: "release", who: "c"},
		{op: "release", who: "c", err: idempotency.ErrNotHeld},
		{op: "claim", want: idempotency.Claimed, attempt: 4},
	}},
	{"a holder that died: unknown, never taken silently", []step{
		{op: "claim", who: "a", want: idempotency.Claimed},
		{op: "wait", wait: 2 * time.Minute},
		{op: "claim", want: idempotency.OutcomeUnknown, attempt: 1, detail: "recorded no outcome"},
		{op: "takeover", takeover: 2, want: idempotency.OutcomeUnknown},
		{op: "takeover", who: "b", takeover: 1, want: idempotency.Claimed, attempt: 2},
		{op: "takeover", takeover: 1, want: idempotency.HeldElsewhere},
		{op: "release", who: "a", err: idempotency.ErrNotHeld},
		{op: "unknown", who: "a", err: idempotency.ErrNotHeld},
		{op: "claim", want: idempotency.HeldElsewhere},
	}},
	{"marked unknown: reported with its detail, taken over only by attempt", []step{
		{op: "claim", who: "a", want: idempotency.Claimed},
		{op: "unknown", who: "a"},
		{op: "claim", want: idempotency.OutcomeUnknown, attempt: 1, detail: "timed out"},
		{op: "release", who: "a", err: idempotency.ErrNotHeld},
		{op: "takeover", who: "b", takeover: 1, want: idempotency.Claimed, attempt: 2},
		{op: "complete"},
		{op: "claim", want: idempotency.AlreadyCompleted},
	}},
	{"a late completion after an unknown mark still counts", []step{
		{op: "claim", who: "a", want: idempotency.Claimed},
		{op: "unknown", who: "a"},
		{op: "complete"},
		{op: "claim", want: idempotency.AlreadyCompleted},
	}},
	{"forgotten after the retention", []step{
		{op: "claim", who: "a", want: idempotency.Claimed},
		{op: "complete"},
		{op: "wait", wait: 401 * 24 * time.Hour},
		{op: "claim", want: idempotency.Claimed},
	}},
}

func run(t *testing.T, store idempotency.Store, c *clock, key string, steps []step) {
	ctx := context.Background()
	tokens := map[string]idempotency.Record{}
	for i, s := range steps {
		lease := c.t.Add(time.Minute)
		switch s.op {
		case "wait":
			c.t = c.t.Add(s.wait)
		case "claim", "takeover":
			got, rec, err := store.Claim(ctx, idempotency.Claim{Key: key, LeaseUntil: lease, Takeover: s.takeover})
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if got != s.want {
				t.Fatalf("step %d %s: outcome %d, want %d (record %+v)", i, s.op, got, s.want, rec)
			}
			if s.attempt > 0 && (rec == nil || rec.Attempt != s.attempt) {
				t.Fatalf("step %d: record %+v, want attempt %d", i, rec, s.attempt)
			}
			if s.detail != "" && (rec == nil || !strings.Contains(rec.Detail, s.detail)) {
				t.Fatalf("step %d: record %+v, want detail with %q", i, rec, s.detail)
			}
			if got == idempotency.Claimed && s.who != "" {
				tokens[s.who] = *rec
			}
		case "complete":
			if err := store.Complete(ctx, idempotency.Record{Key: key, HTTPStatus: 200, TxHash: "0xabc"}); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		case "release", "unknown":
			rec := tokens[s.who]
			rec.Detail, rec.HTTPStatus = "Resonance call timed out after 10s", 0
			var err error
			if s.op == "release" {
				err = store.Release(ctx, rec)
			} else {
				err = store.Unknown(ctx, rec)
			}
			if (s.err == nil) != (err == nil) || (s.err != nil && !errors.Is(err, s.err)) {
				t.Fatalf("step %d %s: %v, want %v", i, s.op, err, s.err)
			}
		}
	}
}

// TestStores runs every case on the DynamoDB store (on moto) and on the
// in-memory one the forwarder's tests use: both must agree.
func TestStores(t *testing.T) {
	m := awstest.StartMoto(t)
	table := m.CreateIdempotencyTable(t, "idem")
	client := dynamodb.NewFromConfig(m.Config())
	for _, backend := range []string{"dynamodb", "memory"} {
		for _, tc := range cases {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				c := &clock{t: time.Now()}
				var store idempotency.Store = &idemtest.Memory{Now: c.now}
				if backend == "dynamodb" {
					store = &idempotency.DynamoDB{Client: client, Table: table, Now: c.now}
				}
				run(t, store, c, backend+"|"+tc.name, tc.steps)
			})
		}
	}
}

func TestResolve(t *testing.T) {
	m := awstest.StartMoto(t)
	table := m.CreateIdempotencyTable(t, "idem")
	ctx := context.Background()
	c := &clock{t: time.Now()}
	d := &idempotency.DynamoDB{Client: dynamodb.NewFromConfig(m.Config()), Table: table, Now: c.now}
	claim := func(key string, takeover int) (idempotency.Outcome, *idempotency.Record) {
		t.Helper()
		got, rec, err := d.Claim(ctx, idempotency.Claim{Key: key, LeaseUntil: c.t.Add(time.Minute), Takeover: takeover})
		if err != nil {
			t.Fatal(err)
		}
		return got, rec
	}
	// k1: a dead holder, resolved as paid: a later delivery is a duplicate.
	claim("k1", 0)
	// k2: marked unknown, resolved as resend: the next claim takes it.
	_, r2 := claim("k2", 0)
	if err := d.Unknown(ctx, *r2); err != nil {
		t.Fatal(err)
	}
	// k3: paid; k4: held by a live claim; k5: never seen.
	claim("k3", 0)
	if err := d.Complete(ctx, idempotency.Record{Key: "k3", HTTPStatus: 200}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(2 * time.Minute)
	claim("k4", 0)

	if _, err := d.Resolve(ctx, "k1", idempotency.ResolvedPaid, "ops@test"); err != nil {
		t.Fatal(err)
	}
	if got, _ := claim("k1", 0); got != idempotency.AlreadyCompleted {
		t.Fatalf("k1 after resolve paid: %d", got)
	}
	if _, err := d.Resolve(ctx, "k2", idempotency.ResolvedResend, "ops@test"); err != nil {
		t.Fatal(err)
	}
	if got, rec := claim("k2", 0); got != idempotency.Claimed || rec.Attempt != 2 {
		t.Fatalf("k2 after resolve resend: %d %+v", got, rec)
	}
	for _, key := range []string{"k3", "k4", "k5", "k2"} {
		if _, err := d.Resolve(ctx, key, idempotency.ResolvedResend, "ops@test"); !errors.Is(err, idempotency.ErrNotUnknown) {
			t.Fatalf("resolve %s: %v, want ErrNotUnknown", key, err)
		}
	}
	if rec, err := d.Get(ctx, "k3"); err != nil || rec == nil || rec.Status != idempotency.StatusCompleted {
		t.Fatalf("k3 = %+v, %v: a paid reward must stay paid", rec, err)
	}
}
