package forward

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/idemtest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// TestAttackRedirectAfterPostReleasesAPaidKey: Resonance (or a gateway in
// front of it) answers the POST that carried out the reward with a redirect
// (303 See Other, the Post/Redirect/Get answer to a request that was
// processed; or 302). Go's client follows it with a GET and the forwarder
// judges the reward by the GET's answer: a 404 there reads as a refusal, the
// claim is released, and the next message of the same payment (the Stripe
// checkout after its charge) pays it again. A redirect says nothing about
// whether the POST was acted on: it must not be followed, and must count as
// an unknown outcome, never release the key.
func TestAttackRedirectAfterPostReleasesAPaidKey(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		get    int // what the redirect target answers to the GET
		answer string
	}{
		{"303 then 404", http.StatusSeeOther, http.StatusNotFound, `{"success":false,"error":"not found"}`},
		{"302 then 405", http.StatusFound, http.StatusMethodNotAllowed, ``},
		{"303 then an HTML page", http.StatusSeeOther, http.StatusOK, `<html>thanks</html>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			posts := map[string]int{} // rewards Resonance carried out, by Idempotency-Key
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if r.Method == http.MethodPost {
					mu.Lock()
					posts[r.Header.Get("Idempotency-Key")]++
					mu.Unlock()
					w.Header().Set("Location", "/receipt")
					w.WriteHeader(c.status)
					return
				}
				w.WriteHeader(c.get)
				_, _ = io.WriteString(w, c.answer)
			}))
			defer srv.Close()
			f, _ := newTestForwarder(t, &stub{})
			f.Store = &idemtest.Memory{}
			f.Resonance = &resonance.Client{BaseURL: srv.URL, BrandID: testBrand, Auth: resonance.AuthBearer,
				Credentials: staticCreds{resonance.Credentials{APIKey: "k"}}}
			batch := sampleBatch(t)
			// The charge, then the checkout session of the same payment: one key.
			for _, i := range []int{6, 7} {
				_, _ = f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{batch.Records[i]}})
			}
			mu.Lock()
			defer mu.Unlock()
			for k, n := range posts {
				if n > 1 {
					t.Errorf("%s carried out %d times: the redirect's answer released the key", k, n)
				}
			}
		})
	}
}
