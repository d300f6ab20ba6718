// Command send signs every genuine sample in events/ with the current time
// and posts it to the local stack (default) or a deployed one, printing each
// answer (make send, or make send BASE_URL=https://abc.execute-api...).
//
//	go run ./cmd/send [-base http://127.0.0.1:3000] [-secrets events/local-secrets.json]
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

func main() {
	base := flag.String("base", envOr("BASE_URL", "http://127.0.0.1:3000"), "base URL of the webhook API")
	secretsFile := flag.String("secrets", "events/local-secrets.json", "file whose <Provider>WebhookSecret entries sign the samples")
	dir := flag.String("events", "events", "samples folder")
	lnURL := flag.String("loyaltynow-url", os.Getenv("LOYALTYNOW_SIGNED_URL"), "URL Loyalty Now signs, if not the request's")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make send [BASE_URL=https://...]   (go run ./cmd/send [flags])")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*base, *secretsFile, *dir, *lnURL); err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(base, secretsFile, dir, lnURL string) error {
	lf, err := devstack.LoadLocalFile(secretsFile)
	if err != nil {
		return err
	}
	ws, err := lf.WebhookSecrets()
	if err != nil {
		return err
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	failures := 0
	for _, p := range providers.Names() {
		files, _ := filepath.Glob(filepath.Join(dir, samples.Spec(p).FunctionID, "*.json"))
		for _, f := range files {
			if strings.HasPrefix(filepath.Base(f), "forged") {
				continue
			}
			p := devstack.WithSource(p, f) // "hmac:acme" for a source's sample
			status, answer, err := send(client, u, p, f, ws[p], lnURL)
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			fmt.Printf("%-11s %-28s -> %d %s\n", p, strings.TrimSuffix(filepath.Base(f), ".json"), status, answer)
			if status != 200 {
				failures++
			}
		}
	}
	if failures > 0 {
		return fmt.Errorf("%d samples not accepted", failures)
	}
	return nil
}

func send(c *http.Client, base *url.URL, provider, file string, keys [][]byte, lnURL string) (int, string, error) {
	if len(keys) == 0 {
		return 0, "", fmt.Errorf("no secret for %s", provider)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return 0, "", err
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return 0, "", err
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return 0, "", err
		}
	}
	target := base.JoinPath(ev.RawPath)
	if !strings.HasPrefix(target.Path, "/") { // JoinPath on a base without a path
		target.Path = "/" + target.Path
	}
	signedURL := "https://" + target.Host + target.Path
	if provider == "loyaltynow" && lnURL != "" {
		signedURL = lnURL
	}
	unsigned := map[string]string{}
	for k, v := range ev.Headers {
		if k != samples.Spec(provider).SignatureHeader { // Sign sets it, and any timestamp it signs
			unsigned[k] = v
		}
	}
	if provider == "custom" {
		unsigned["webhook-id"] = fmt.Sprintf("msg_%d", time.Now().UnixNano())
	}
	now := time.Now()
	if ev.RequestContext.TimeEpoch > 0 { // bodies that carry their own time (spec.BodyTimes): as recent as now
		body = samples.Freshen(provider, body, time.UnixMilli(ev.RequestContext.TimeEpoch), now)
	}
	headers, err := samples.Sign(provider, spec.Delivery{Body: body, URL: signedURL, At: now, Headers: unsigned}, string(keys[0]))
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequest(http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return 0, "", fmt.Errorf("nothing listens at %s: start make dev (make send PORT=... if it runs on another port), or give BASE_URL=https://... for a deployed stack", base.Host)
	}
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, string(answer), nil
}
