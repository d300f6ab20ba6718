package secrets

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseWebhookSecrets(t *testing.T) {
	got, err := ParseWebhookSecrets(`{"Shopify":"new, old ,","stripe":["whsec_a","whsec_b"],"zupy":""}`)
	if err != nil {
		t.Fatal(err)
	}
	want := WebhookSecrets{
		"shopify": {[]byte("new"), []byte("old")},
		"stripe":  {[]byte("whsec_a"), []byte("whsec_b")},
		"zupy":    nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range []string{`nope`, `["a"]`, `{"shopify":1}`, `{"acme":"a","ACME":"b"}`} {
		if _, err := ParseWebhookSecrets(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseWebhookSecrets(%s) = %v, want ErrFormat", bad, err)
		}
	}
}

func TestCacheRefreshesAndSurvivesOutages(t *testing.T) {
	now := time.Unix(1000, 0)
	calls, value, fail := 0, `{"shopify":"v1"}`, false
	c := &Cache[WebhookSecrets]{
		Fetcher: FetcherFunc(func(context.Context, string) (string, error) {
			calls++
			if fail {
				return "", errors.New("unreachable")
			}
			return value, nil
		}),
		ID: "id", TTL: time.Minute, Parse: ParseWebhookSecrets, Now: func() time.Time { return now },
	}
	get := func() string {
		t.Helper()
		v, err := c.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return string(v["shopify"][0])
	}
	steps := []struct {
		advance   time.Duration
		set       string
		fail      bool
		want      string
		wantCalls int
	}{
		{0, "", false, "v1", 1},
		{30 * time.Second, `{"shopify":"v2"}`, false, "v1", 1}, // cached
		{31 * time.Second, "", false, "v2", 2},                 // expired: re-read, rotation seen
		{61 * time.Second, "", true, "v2", 3},                  // outage: stale value serves
		{5 * time.Second, "", true, "v2", 3},                   // not hammered
		{6 * time.Second, "", false, "v2", 4},                  // recovered
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if s.set != "" {
			value = s.set
		}
		fail = s.fail
		if got := get(); got != s.want || calls != s.wantCalls {
			t.Fatalf("step %d: got %s after %d calls, want %s after %d", i, got, calls, s.want, s.wantCalls)
		}
	}
}

func TestCacheWithoutValueReturnsError(t *testing.T) {
	c := &Cache[WebhookSecrets]{
		Fetcher: FetcherFunc(func(context.Context, string) (string, error) { return "", errors.New("down") }),
		ID:      "id", Parse: ParseWebhookSecrets,
	}
	if _, err := c.Get(context.Background()); err == nil {
		t.Fatal("Get succeeded with no secret ever read")
	}
}
