package mapping

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
)

// TestMemoryIsTheRetention: the age limit is derived from what the
// idempotency table remembers; their defaults must not drift apart.
func TestMemoryIsTheRetention(t *testing.T) {
	if DefaultMemory != idempotency.DefaultRetention {
		t.Fatalf("DefaultMemory %s != idempotency.DefaultRetention %s", DefaultMemory, idempotency.DefaultRetention)
	}
}

func TestCheckAge(t *testing.T) {
	day := 24 * time.Hour
	recv := time.Date(2027, 4, 20, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		memory   time.Duration
		value    string
		received time.Time
		want     string // park reason, "" when forwarded
	}{
		{"a minute old", 0, "2027-04-20T11:59:00Z", recv, ""},
		{"in the future (clock skew)", 0, "2027-04-20T12:05:00+00:00", recv, ""},
		{"exactly 370 days", 0, recv.Add(-370 * day).Format(time.RFC3339), recv, ""},
		{"370 days and a second", 0, recv.Add(-370*day - time.Second).Format(time.RFC3339), recv, ReasonStaleDelivery},
		{"401 days, offset form", 0, recv.Add(-401 * day).In(time.FixedZone("", -5*3600)).Format(time.RFC3339), recv, ReasonStaleDelivery},
		{"100 days with a 60-day memory", 60 * day, recv.Add(-100 * day).Format(time.RFC3339), recv, ReasonStaleDelivery},
		{"29 days with a 60-day memory", 60 * day, recv.Add(-29 * day).Format(time.RFC3339), recv, ""},
		{"31 days with a 60-day memory", 60 * day, recv.Add(-31 * day).Format(time.RFC3339), recv, ReasonStaleDelivery},
		{"4 days with a 7-day memory", 7 * day, recv.Add(-4 * day).Format(time.RFC3339), recv, ReasonStaleDelivery},
		{"absent", 0, "", recv, ReasonNoBusinessTime},
		{"not RFC 3339", 0, "2027-04-20 11:59:00", recv, ReasonInvalidPayload},
		{"no receivedAt on the envelope", 0, "2027-04-20T11:59:00Z", time.Time{}, ReasonStaleDelivery},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckAge(&envelope.Envelope{ReceivedAt: c.received}, &Config{Memory: c.memory}, "created_at", c.value)
			var pe *ParkError
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("CheckAge = %v, want nil", err)
			case c.want != "" && (!errors.As(err, &pe) || pe.Reason != c.want):
				t.Fatalf("CheckAge = %v, want parked %s", err, c.want)
			}
		})
	}
}

func TestStaleAfter(t *testing.T) {
	day := 24 * time.Hour
	for memory, want := range map[time.Duration]time.Duration{0: 370 * day, 400 * day: 370 * day, 60 * day: 30 * day, 30 * day: 15 * day, 7 * day: 84 * time.Hour} {
		if got := (&Config{Memory: memory}).StaleAfter(); got != want {
			t.Errorf("memory %s: StaleAfter %s, want %s", memory, got, want)
		}
	}
}
