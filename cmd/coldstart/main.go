// Command coldstart measures each function's cold start beside a hello-world
// aws-lambda-go bootstrap built with the same flags (make coldstart): every
// bootstrap is built as sam build builds it (for this machine's
// architecture, so that it runs here), started afresh for each run under the
// Lambda Runtime API emulator with its environment from template.yaml and
// moto for AWS calls, and timed from process start to its first request for
// work (init) and to its first answer. It also reports the linux/arm64 binary
// sizes and the peak memory of one invocation with a 1 MB body.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// sampleOf is the event function id is started with: its provider's
// benchmark sample (spec.Spec.Benchmark), or a Shopify order for the
// forwarder.
func sampleOf(id string) string {
	for _, s := range providers.All {
		if s.FunctionID == id {
			return filepath.Join(id, s.Benchmark)
		}
	}
	return "ForwarderFunction/shopify-orders-paid.json"
}

type stats struct {
	init, answer []time.Duration
	peak         int64
}

func main() {
	runs := flag.Int("runs", 15, "cold starts per function")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make coldstart [RUNS=n]   (go run ./cmd/coldstart [flags])")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*runs); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(runs int) error {
	tmp, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := exec.Command("cp", "-r", "events", filepath.Join(tmp, "events")).Run(); err != nil {
		return err
	}
	events := filepath.Join(tmp, "events")
	stack, err := devstack.Prepare(context.Background(), devstack.Config{Template: "template.yaml", LocalFile: "events/local-secrets.json", Out: io.Discard})
	if err != nil {
		return err
	}
	defer stack.Close()

	fmt.Printf("building (host %s for the runs, arm64 for the sizes)\n", runtime.GOARCH)
	hello := filepath.Join(tmp, "hello", "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid=", "-o", hello, "./cmd/coldstart/hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build hello: %v\n%s", err, out)
	}
	sizes := map[string]int64{}
	for _, f := range stack.Functions {
		for _, arch := range []string{runtime.GOARCH, "arm64"} {
			out := filepath.Join(tmp, arch, f.ID)
			if b, err := exec.Command("make", "--no-print-directory", "build-"+f.ID, "ARTIFACTS_DIR="+out, "LAMBDA_ARCH="+arch).CombinedOutput(); err != nil {
				return fmt.Errorf("build %s: %v\n%s", f.ID, err, b)
			}
		}
		if st, err := os.Stat(filepath.Join(tmp, "arm64", f.ID, "bootstrap")); err == nil {
			sizes[f.ID] = st.Size()
		}
	}
	helloARM := filepath.Join(tmp, "hello-arm64", "bootstrap")
	build = exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid=", "-o", helloARM, "./cmd/coldstart/hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build hello: %v\n%s", err, out)
	}
	if st, err := os.Stat(helloARM); err == nil {
		sizes["hello-world"] = st.Size()
	}

	results := map[string]*stats{}
	// Interleave the functions run by run, so that drift on the machine
	// falls on all of them alike.
	for r := range runs {
		if _, err := devstack.SignSamples(events, time.Now()); err != nil {
			return err
		}
		hs, err := measure(hello, nil, []byte(`{}`), 3*time.Second)
		if err != nil {
			return fmt.Errorf("hello: %w", err)
		}
		add(results, "hello-world", hs)
		for _, f := range stack.Functions {
			ev, err := os.ReadFile(filepath.Join(events, sampleOf(f.ID)))
			if err != nil {
				return err
			}
			inv, err := measure(filepath.Join(tmp, runtime.GOARCH, f.ID, "bootstrap"), env(stack, f), ev, time.Duration(f.Timeout)*time.Second)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", f.ID, r, err)
			}
			add(results, f.ID, inv)
		}
	}

	// Peak memory with a 1 MB body, through ingest and the forwarder.
	big, err := bigOrder()
	if err != nil {
		return err
	}
	fs := map[string]devstack.Function{}
	for _, f := range stack.Functions {
		fs[f.ID] = f
	}
	ingestEv, fwdEv, err := bigEvents(big)
	if err != nil {
		return err
	}
	peak := map[string]int64{}
	for id, ev := range map[string][]byte{"ShopifyWebhookFunction": ingestEv, "ForwarderFunction": fwdEv} {
		inv, err := measure(filepath.Join(tmp, runtime.GOARCH, id, "bootstrap"), env(stack, fs[id]), ev, 30*time.Second)
		if err != nil {
			return fmt.Errorf("%s with 1 MB: %w", id, err)
		}
		if !strings.Contains(string(inv.Response), `"statusCode":200`) && !strings.Contains(string(inv.Response), `"batchItemFailures":null`) && !strings.Contains(string(inv.Response), `"batchItemFailures":[]`) {
			return fmt.Errorf("%s with 1 MB answered %s", id, inv.Response)
		}
		peak[id] = inv.PeakRSS
	}

	h := results["hello-world"]
	hInit, hAns := median(h.init), median(h.answer)
	fmt.Printf("\n%d cold starts each, %s, medians (p90)\n", runs, runtime.GOARCH)
	fmt.Printf("%-27s %18s %8s %18s %12s %12s\n", "function", "init", "vs hello", "first answer", "peak RSS", "arm64 size")
	names := []string{"hello-world"}
	for _, f := range stack.Functions {
		names = append(names, f.ID)
	}
	for _, n := range names {
		s := results[n]
		fmt.Printf("%-27s %8s (%7s) %7.2fx %8s (%7s) %9.1f MB %9.2f MB\n", n,
			median(s.init).Round(10*time.Microsecond), p90(s.init).Round(10*time.Microsecond), float64(median(s.init))/float64(hInit),
			median(s.answer).Round(10*time.Microsecond), p90(s.answer).Round(10*time.Microsecond),
			float64(s.peak)/1e6, float64(sizes[n])/1e6)
	}
	fmt.Printf("hello-world first answer %s. Peak RSS with a 1 MB body: Shopify ingest %.1f MB, forwarder %.1f MB (of 128 MB)\n",
		hAns.Round(10*time.Microsecond), float64(peak["ShopifyWebhookFunction"])/1e6, float64(peak["ForwarderFunction"])/1e6)
	return nil
}

func env(stack *devstack.Stack, f devstack.Function) map[string]string {
	e := stack.LambdaEnv()
	for k, v := range f.Env {
		e[k] = v
	}
	e["AWS_LAMBDA_LOG_LEVEL"] = "ERROR"
	return e
}

func measure(bootstrap string, env map[string]string, event []byte, timeout time.Duration) (*devstack.Invocation, error) {
	inv, err := devstack.RunBootstrap(context.Background(), bootstrap, env, event, timeout)
	if err != nil {
		return nil, err
	}
	if inv.Error != nil {
		return nil, fmt.Errorf("function error %s\n%s", inv.Error, inv.Logs)
	}
	return inv, nil
}

func add(m map[string]*stats, name string, inv *devstack.Invocation) {
	s := m[name]
	if s == nil {
		s = &stats{}
		m[name] = s
	}
	s.init = append(s.init, inv.Ready.Sub(inv.Started))
	s.answer = append(s.answer, inv.Answered.Sub(inv.Started))
	s.peak = max(s.peak, inv.PeakRSS)
}

func median(d []time.Duration) time.Duration { return quantile(d, 0.5) }
func p90(d []time.Duration) time.Duration    { return quantile(d, 0.9) }

func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// bigOrder is a Shopify order of about 1 MB (line items).
func bigOrder() ([]byte, error) {
	body, _, err := samples.Realistic("events", "shopify")
	if err != nil {
		return nil, err
	}
	var order map[string]any
	if err := json.Unmarshal(body, &order); err != nil {
		return nil, err
	}
	items := order["line_items"].([]any)
	order["id"] = json.Number("5894410961189003999")
	for {
		b, err := json.Marshal(order)
		if err != nil || len(b) >= 1_000_000 {
			return b, err
		}
		for range 50 {
			items = append(items, items[len(items)%2])
		}
		order["line_items"] = items
	}
}

func bigEvents(body []byte) (ingestEv, fwdEv []byte, err error) {
	lf, err := devstack.LoadLocalFile("events/local-secrets.json")
	if err != nil {
		return nil, nil, err
	}
	ws, err := lf.WebhookSecrets()
	if err != nil {
		return nil, nil, err
	}
	headers := map[string]string{"content-type": "application/json", "x-shopify-topic": "orders/paid",
		"x-shopify-shop-domain": "big.myshopify.com", "x-shopify-event-id": "big-1"}
	signed, err := samples.Sign("shopify", spec.Delivery{Body: body, Headers: headers}, string(ws["shopify"][0]))
	if err != nil {
		return nil, nil, err
	}
	if ingestEv, err = json.Marshal(apigw.Event(apigw.Request{Path: "/webhooks/shopify", Domain: "abc.execute-api.us-east-1.amazonaws.com", Headers: signed, Body: body})); err != nil {
		return nil, nil, err
	}
	env := &envelope.Envelope{Version: envelope.Version, Provider: "shopify", EventType: "orders/paid", DeliveryID: "big-1",
		ReceivedAt: devstack.SampleTime, Headers: map[string]string{"x-shopify-shop-domain": "big.myshopify.com"}, Body: body} // restamped below: received now, its created_at moved as much
	key, err := devstack.EnvelopeKey("events/local-secrets.json")
	if err != nil {
		return nil, nil, err
	}
	if err := samples.Restamp(env, key, time.Now()); err != nil { // as ingest would queue it now
		return nil, nil, err
	}
	msg := envelope.Encode(env)
	fwdEv, err = json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "big", ReceiptHandle: "big", Body: msg,
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}, EventSource: "aws:sqs"}}})
	return ingestEv, fwdEv, err
}
