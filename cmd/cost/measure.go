package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/forward"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/idemtest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/runtime"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

// eventOverhead is what CloudWatch Logs counts per log event beside its
// bytes.
const eventOverhead = 26

// lines counts the log lines written to it and their bytes, as CloudWatch
// Logs bills them, apart for the forwarder's batch metric documents.
type lines struct {
	n, bytes       int
	docs, docBytes int
}

func (l *lines) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if bytes.Contains(line, []byte(`"msg":"batch metrics"`)) {
			l.docs++
			l.docBytes += len(line) + eventOverhead
			continue
		}
		l.n++
		l.bytes += len(line) + eventOverhead
	}
	return len(p), nil
}

// sizes records the size of what is sent to the events queue.
type sizes struct {
	nopQueue
	n, bytes int
}

func (s *sizes) Send(_ context.Context, body string, _ map[string]string) error {
	s.n++
	s.bytes += len(body)
	return nil
}

// Measured is what Measure finds.
type Measured struct {
	IngestBytes        float64 // log bytes per webhook on ingest
	ForwarderLineBytes float64 // per message line of the forwarder
	ForwarderDocBytes  float64 // per batch metric document (0 with the metrics off)
	EnvelopeBytes      float64 // the average envelope on the events queue
}

// logger is the functions' logger as it runs in Lambda (no time field),
// writing to w.
func logger(w io.Writer) *slog.Logger { return runtime.JSONLogger(w, slog.LevelInfo, false) }

type nopQueue struct{}

func (nopQueue) Send(context.Context, string, map[string]string) error         { return nil }
func (nopQueue) ChangeVisibility(context.Context, string, time.Duration) error { return nil }

type creds struct{}

func (creds) Get(context.Context) (resonance.Credentials, error) {
	return resonance.Credentials{APIKey: "k", HMACSecret: "s"}, nil
}

// Measure runs every provider's benchmark sample through its ingest
// handler, and the samples' batch through the forwarder (against a stub
// Resonance that pays), with the metrics on, and returns the log bytes
// per webhook of each, averaged over the providers.
func Measure(eventsDir string, metricsOff bool) (m Measured, err error) {
	local := filepath.Join(eventsDir, "local-secrets.json")
	lf, err := devstack.LoadLocalFile(local)
	if err != nil {
		return m, err
	}
	ws, err := lf.WebhookSecrets()
	if err != nil {
		return m, err
	}
	key, err := devstack.EnvelopeKey(local)
	if err != nil {
		return m, err
	}
	em := metrics.Emitter{Namespace: "ResonanceRelay/resonance-relay", Off: metricsOff}
	now := time.Now()
	var in lines
	queued := &sizes{}
	names := samples.Names()
	for _, name := range names {
		s := samples.Spec(name)
		file := filepath.Join(eventsDir, s.FunctionID, s.Benchmark)
		raw, err := devstack.SignEvent(file, name, string(ws[name][0]), now)
		if err != nil {
			return m, fmt.Errorf("%s: %w", file, err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return m, err
		}
		provider, source, _ := strings.Cut(name, ":")
		secretName := provider
		if source != "" {
			secretName = source
		}
		h := &ingest.Handler{
			Name: provider, Provider: samples.Verifier(name), Sourced: s.Sourced,
			Secrets: staticSecrets{secrets.WebhookSecrets{secretName: ws[name]}},
			Events:  queued, DeadLetters: nopQueue{}, Envelopes: envelope.StaticKeys{key},
			Accept: ingest.ParseEventFilter("*"),
			Log:    logger(&in), Metrics: em,
		}
		if resp, _ := h.Handle(context.Background(), ev); resp.StatusCode != 200 {
			return m, fmt.Errorf("%s: ingest answered %d %s", name, resp.StatusCode, resp.Body)
		}
	}
	m.IngestBytes = float64(in.bytes) / float64(len(names))
	m.EnvelopeBytes = float64(queued.bytes) / float64(max(queued.n, 1))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"success":true,"rewardAmount":93,"txHash":"0x4f1c2b9d8e7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"}`)
	}))
	defer srv.Close()
	cfgs, err := providers.LoadMapping("")
	if err != nil {
		return m, err
	}
	var out lines
	f := &forward.Forwarder{
		BrandID: "0x5FbDB2315678afecb367f032d93F642f64180aa3", Mappers: samples.Mappers(), Configs: cfgs,
		Store:       &idemtest.Memory{},
		Resonance:   &resonance.Client{BaseURL: srv.URL, BrandID: "0x5FbDB2315678afecb367f032d93F642f64180aa3", Auth: resonance.AuthBearer, Credentials: creds{}},
		DeadLetters: nopQueue{}, Visibility: nopQueue{}, Envelopes: envelope.StaticKeys{key},
		Log: logger(&out), Metrics: em,
	}
	b, err := os.ReadFile(filepath.Join(eventsDir, "ForwarderFunction", "batch.json"))
	if err != nil {
		return m, err
	}
	var batch events.SQSEvent
	if err := json.Unmarshal(b, &batch); err != nil {
		return m, err
	}
	if err := samples.RestampSQS(&batch, key, now); err != nil {
		return m, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if resp, err := f.Handle(ctx, batch); err != nil || len(resp.BatchItemFailures) > 0 {
		return m, fmt.Errorf("forwarder: %v, failures %v", err, resp.BatchItemFailures)
	}
	m.ForwarderLineBytes = float64(out.bytes) / float64(len(batch.Records))
	if out.docs > 0 {
		m.ForwarderDocBytes = float64(out.docBytes) / float64(out.docs)
	}
	return m, nil
}

type staticSecrets struct{ s secrets.WebhookSecrets }

func (s staticSecrets) Get(context.Context) (secrets.WebhookSecrets, error) { return s.s, nil }
