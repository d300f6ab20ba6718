// Command sign-events re-signs the sample API Gateway events in events/ with
// the local development secrets (events/local-secrets.json) at the current
// time, so that `sam local invoke -e` accepts them even for the providers
// whose signatures expire (Stripe and custom after 5 minutes, Loyalty Now
// after 1). Files named forged*.json are signed with a wrong secret.
//
//	go run ./cmd/sign-events [-dir events] [-at 2026-01-01T00:00:00Z]
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

// ForgedSecret signs the forged samples; it is in no configuration.
const ForgedSecret = "whsec_Zm9yZ2VkLW5vdC1hLXJlYWwtc2VjcmV0"

func main() {
	dir := flag.String("dir", "events", "events folder")
	at := flag.String("at", "", "signing time, RFC 3339 (default now)")
	flag.Parse()
	when := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fail(err)
		}
		when = t
	}
	n, err := SignAll(*dir, when)
	if err != nil {
		fail(err)
	}
	fmt.Printf("signed %d sample events in %s at %s\n", n, *dir, when.UTC().Format(time.RFC3339))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sign-events:", err)
	os.Exit(1)
}

// LocalSecrets is events/local-secrets.json.
type LocalSecrets struct {
	Webhook json.RawMessage `json:"webhook"`
}

// SignAll re-signs every ingest sample under dir and returns how many.
func SignAll(dir string, when time.Time) (int, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "local-secrets.json"))
	if err != nil {
		return 0, err
	}
	var ls LocalSecrets
	if err := json.Unmarshal(raw, &ls); err != nil {
		return 0, fmt.Errorf("local-secrets.json: %w", err)
	}
	webhook, err := secrets.ParseWebhookSecrets(string(ls.Webhook))
	if err != nil {
		return 0, fmt.Errorf("local-secrets.json: %w", err)
	}
	n := 0
	names := append([]string(nil), providers.Names...)
	sort.Strings(names)
	for _, p := range names {
		files, _ := filepath.Glob(filepath.Join(dir, providers.FunctionIDs[p], "*.json"))
		for _, f := range files {
			secret := ForgedSecret
			if !strings.HasPrefix(filepath.Base(f), "forged") {
				if len(webhook[p]) == 0 {
					return n, fmt.Errorf("no local secret for %s", p)
				}
				secret = string(webhook[p][0])
			}
			if err := signFile(f, p, secret, when); err != nil {
				return n, fmt.Errorf("%s: %w", f, err)
			}
			n++
		}
	}
	return n, nil
}

func signFile(path, provider, secret string, when time.Time) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return err
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return err
		}
	}
	url := "https://" + ev.RequestContext.DomainName + ev.RawPath
	headers, err := providers.Sign(provider, providers.Delivery{Body: body, URL: url, At: when, Headers: ev.Headers}, secret)
	if err != nil {
		return err
	}
	out := apigw.Event(apigw.Request{
		Method: ev.RequestContext.HTTP.Method, Path: ev.RawPath, Query: ev.RawQueryString,
		Domain: ev.RequestContext.DomainName, Headers: headers, Body: body,
		SourceIP: ev.RequestContext.HTTP.SourceIP, RequestID: ev.RequestContext.RequestID, Time: when,
	})
	// aws-lambda-go writes an empty client-certificate block that AWS never
	// sends without mutual TLS; drop it so the samples read as AWS's do.
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	var tidy map[string]any
	if err := json.Unmarshal(b, &tidy); err != nil {
		return err
	}
	delete(tidy["requestContext"].(map[string]any), "authentication")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tidy); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
