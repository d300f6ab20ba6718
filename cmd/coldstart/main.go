// Command coldstart measures each function's cold start beside its floors
// (make coldstart): hello-world, the smallest aws-lambda-go function, and an
// SDK hello-world that builds at init the AWS SDK clients the function
// builds, so that what the SDK costs is told apart from what the relay adds.
// Every bootstrap is built as sam build builds it (for this machine's
// architecture, so that it runs here) and started afresh under the Lambda
// Runtime API emulator with moto for AWS calls; it is timed from process
// start to its first request for work (init) and to its first answer.
//
// Each round visits the functions in random order, and starts each one and
// its two floors in random order, all three with the function's environment
// from template.yaml as the local stack resolves it; a function's ratios
// are taken per round against the floors started beside it, and reported as
// their median and middle half. Against the goal (init at most Goal times
// the SDK hello-world's) a function "meets" it when the whole middle half is
// at or below it, is "above" when the whole middle half is above, and is
// "inconclusive" when the goal lies inside it (the spread is wider than the
// gap). It also reports the linux/arm64 binary sizes and the peak memory of
// one invocation with a 1 MB body.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// sampleOf is the event function id is started with: its provider's
// benchmark sample (spec.Spec.Benchmark), a Shopify order for the
// forwarder, the schedule's event for the releaser.
func sampleOf(id string) string {
	for _, s := range providers.All {
		if s.FunctionID == id {
			return filepath.Join(id, s.Benchmark)
		}
	}
	if id == "ReleaserFunction" {
		return "ReleaserFunction/scheduled.json"
	}
	return "ForwarderFunction/shopify-orders-paid.json"
}

type stats struct {
	init, cpu, answer []time.Duration
	peak              int64
}

// perRound are a binary's per-round ratios to one floor: of the median
// wall-clock init and of the median CPU time to init.
type perRound struct{ wall, cpu []float64 }

// The floors: hello-world, the smallest aws-lambda-go function, and the
// SDK hello-worlds, which build at init the AWS SDK clients the functions
// build (ingest: SQS and Secrets Manager; the forwarder and the releaser:
// those and DynamoDB). A function's init above its SDK floor is the
// relay's own.
const (
	hello      = "hello-world"
	helloSDK   = "hello-world + SDK"
	helloSDKDB = "hello-world + SDK + DynamoDB"
	// Goal is the most a function's init may be of its SDK floor's.
	Goal = 1.25
)

var floorPkg = map[string]string{hello: "./cmd/coldstart/hello", helloSDK: "./cmd/coldstart/hellosdk", helloSDKDB: "./cmd/coldstart/hellosdkdb"}

// sdkFloor is the SDK hello-world that links what function id links.
func sdkFloor(id string) string {
	if id == "ForwarderFunction" || id == "ReleaserFunction" {
		return helloSDKDB
	}
	return helloSDK
}

func main() {
	runs := flag.Int("runs", 25, "rounds")
	starts := flag.Int("starts", 5, "cold starts of each function and of each of its floors per round")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make coldstart [RUNS=n]   (go run ./cmd/coldstart [flags])")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *runs < 2 || *starts < 1 {
		fmt.Fprintln(os.Stderr, "coldstart: -runs must be at least 2 and -starts at least 1")
		os.Exit(2)
	}
	if err := run(*runs, *starts); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func goBuild(pkg, out, arch string) error {
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func run(runs, starts int) error {
	begun := time.Now()
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
	sizes := map[string]int64{}
	bin := map[string]string{} // name -> host bootstrap
	for name, pkg := range floorPkg {
		for _, arch := range []string{runtime.GOARCH, "arm64"} {
			if err := goBuild(pkg, filepath.Join(tmp, arch, name, "bootstrap"), arch); err != nil {
				return err
			}
		}
		bin[name] = filepath.Join(tmp, runtime.GOARCH, name, "bootstrap")
	}
	for _, f := range stack.Functions {
		for _, arch := range []string{runtime.GOARCH, "arm64"} {
			out := filepath.Join(tmp, arch, f.ID)
			if b, err := exec.Command("make", "--no-print-directory", "build-"+f.ID, "ARTIFACTS_DIR="+out, "LAMBDA_ARCH="+arch).CombinedOutput(); err != nil {
				return fmt.Errorf("build %s: %v\n%s", f.ID, err, b)
			}
		}
		bin[f.ID] = filepath.Join(tmp, runtime.GOARCH, f.ID, "bootstrap")
	}
	for name := range bin {
		if st, err := os.Stat(filepath.Join(tmp, "arm64", name, "bootstrap")); err == nil {
			sizes[name] = st.Size()
		}
	}

	// Each round, in random order, each function is started beside its
	// floors (hello-world and its SDK hello-world), starts times each, all
	// in random order and with the function's own environment; the round's
	// ratios are of the medians within that group, so that drift on the
	// machine falls on the function and its floors alike.
	results := map[string]*stats{}
	ratios := map[string]map[string]*perRound{} // binary -> floor -> per-round ratios
	order := slices.Clone(stack.Functions)
	sqsClient := sqs.NewFromConfig(stack.Endpoints.Config(motoserver.SQS))
	var queues []string
	for _, f := range stack.Functions {
		for _, k := range []string{"EVENTS_QUEUE_URL", "DEAD_LETTER_QUEUE_URL"} {
			if u := f.Env[k]; u != "" && !slices.Contains(queues, u) {
				queues = append(queues, u)
			}
		}
	}
	for r := range runs {
		if _, err := devstack.SignSamples(events, time.Now()); err != nil {
			return err
		}
		// moto's SQS calls scan the whole queue: empty the queues, so
		// that a first answer does not grow with the messages sent before.
		for _, u := range queues {
			if _, err := sqsClient.PurgeQueue(context.Background(), &sqs.PurgeQueueInput{QueueUrl: aws.String(u)}); err != nil {
				return fmt.Errorf("purge %s: %w", u, err)
			}
		}
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, f := range order {
			ev, err := os.ReadFile(filepath.Join(events, sampleOf(f.ID)))
			if err != nil {
				return err
			}
			var group []string
			for range starts {
				group = append(group, f.ID, hello, sdkFloor(f.ID))
			}
			rand.Shuffle(len(group), func(i, j int) { group[i], group[j] = group[j], group[i] })
			inits, cpus := map[string][]time.Duration{}, map[string][]time.Duration{}
			for _, name := range group {
				event, timeout := ev, time.Duration(f.Timeout)*time.Second
				if name != f.ID {
					event, timeout = []byte(`{}`), 3*time.Second
				}
				inv, err := measure(bin[name], env(stack, f), event, timeout)
				if err != nil {
					return fmt.Errorf("%s (round %d, with %s's environment): %w", name, r, f.ID, err)
				}
				add(results, name, inv)
				inits[name] = append(inits[name], inv.Ready.Sub(inv.Started))
				if inv.ReadyCPU > 0 { // 0: not read (a thread ended meanwhile): unknown, not zero
					cpus[name] = append(cpus[name], inv.ReadyCPU)
				}
			}
			sdk := sdkFloor(f.ID)
			// The function against both floors, and what the SDK's clients
			// cost over hello-world, from the same group.
			for _, pair := range [][2]string{{f.ID, hello}, {f.ID, sdk}, {sdk, hello}} {
				n, floor := pair[0], pair[1]
				if ratios[n] == nil {
					ratios[n] = map[string]*perRound{}
				}
				if ratios[n][floor] == nil {
					ratios[n][floor] = &perRound{}
				}
				pr := ratios[n][floor]
				pr.wall = append(pr.wall, float64(median(inits[n]))/float64(median(inits[floor])))
				if len(cpus[n]) > 0 && len(cpus[floor]) > 0 { // else this round proves nothing on CPU
					pr.cpu = append(pr.cpu, float64(median(cpus[n]))/float64(median(cpus[floor])))
				}
			}
		}
	}
	measured := time.Since(begun)

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
		inv, err := measure(bin[id], env(stack, fs[id]), ev, 30*time.Second)
		if err != nil {
			return fmt.Errorf("%s with 1 MB: %w", id, err)
		}
		if !strings.Contains(string(inv.Response), `"statusCode":200`) && !strings.Contains(string(inv.Response), `"batchItemFailures":null`) && !strings.Contains(string(inv.Response), `"batchItemFailures":[]`) {
			return fmt.Errorf("%s with 1 MB answered %s", id, inv.Response)
		}
		peak[id] = inv.PeakRSS
	}

	fmt.Printf("\n%d rounds of %d starts per function and floor (%s/%s, %d CPUs, %s).\n"+
		"init: process start to its first request for work (wall clock, and the CPU time its threads ran until then);\n"+
		"first answer: to its first response, with its moto calls; median (p90) over every start.\n"+
		"Ratios: median [p25-p75] of the per-round ratios of a binary's median init to its floor's, started beside it.\n"+
		"Goal: init at most %.2fx the SDK hello-world's; the verdict is inconclusive when %.2f lies inside [p25-p75].\n\n",
		runs, starts, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), measured.Round(time.Second), Goal, Goal)
	fmt.Printf("%-28s %19s %19s %19s | %-36s | %-36s | %8s %8s\n", "", "", "", "", "CPU time to init, ratio to", "wall-clock init, ratio to", "", "")
	fmt.Printf("%-28s %19s %19s %19s | %17s %18s | %17s %18s | %8s %8s\n", "binary", "init", "CPU to init", "first answer",
		"hello-world", "SDK hello-world", "hello-world", "SDK hello-world", "peak RSS", "arm64")
	names := []string{hello, helloSDK, helloSDKDB}
	for _, f := range stack.Functions {
		names = append(names, f.ID)
	}
	verdicts := map[string][2]string{}
	for _, n := range names {
		s := results[n]
		var cols [4]string
		if rs := ratios[n]; rs != nil {
			if pr := rs[hello]; pr != nil {
				cols[0], cols[2] = spread(pr.cpu), spread(pr.wall)
			}
			if pr := rs[sdkFloor(n)]; pr != nil && n != sdkFloor(n) {
				cols[1], cols[3] = spread(pr.cpu)+" "+mark(pr.cpu), spread(pr.wall)+" "+mark(pr.wall)
				verdicts[n] = [2]string{judge(pr.cpu, Goal), judge(pr.wall, Goal)}
			}
		}
		fmt.Printf("%-28s %8s (%8s) %8s (%8s) %8s (%8s) | %17s %18s | %17s %18s | %5.1f MB %5.2f MB\n", n,
			ms(median(s.init)), ms(p90(s.init)), ms(median(s.cpu)), ms(p90(s.cpu)), ms(median(s.answer)), ms(p90(s.answer)),
			cols[0], cols[1], cols[2], cols[3], float64(s.peak)/1e6, float64(sizes[n])/1e6)
	}
	fmt.Printf("\nVerdicts against %.2fx the SDK hello-world (CPU time; wall clock):\n", Goal)
	for _, n := range names {
		if v, ok := verdicts[n]; ok {
			fmt.Printf("  %-28s %-13s %s\n", n, v[0], v[1])
		}
	}
	fmt.Printf("Floors' starts: %s %d, %s %d, %s %d. Peak RSS with a 1 MB body: Shopify ingest %.1f MB, forwarder %.1f MB (of 128 MB)\n",
		hello, len(results[hello].init), helloSDK, len(results[helloSDK].init), helloSDKDB, len(results[helloSDKDB].init),
		float64(peak["ShopifyWebhookFunction"])/1e6, float64(peak["ForwarderFunction"])/1e6)
	return nil
}

// mark is judge's verdict in one character: + meets, - above, ? inconclusive.
func mark(r []float64) string {
	return map[string]string{"meets": "+", "above": "-", "inconclusive": "?"}[judge(r, Goal)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

// spread is "median [p25-p75]" of per-round ratios.
func spread(r []float64) string {
	lo, mid, hi := quartiles(r)
	return fmt.Sprintf("%.2fx [%.2f-%.2f]", mid, lo, hi)
}

// judge says whether per-round ratios r meet goal: "meets" or "above" when
// the goal lies outside the middle half of r (the spread on the goal's side
// of the median is narrower than the gap to it), "inconclusive" otherwise.
func judge(r []float64, goal float64) string {
	lo, _, hi := quartiles(r)
	switch {
	case hi <= goal:
		return "meets"
	case lo > goal:
		return "above"
	}
	return "inconclusive"
}

func quartiles(r []float64) (lo, mid, hi float64) {
	s := slices.Clone(r)
	slices.Sort(s)
	q := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return q(0.25), q(0.5), q(0.75)
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
	if inv.ReadyCPU > 0 { // 0: unknown, left out of the medians
		s.cpu = append(s.cpu, inv.ReadyCPU)
	}
	s.answer = append(s.answer, inv.Answered.Sub(inv.Started))
	s.peak = max(s.peak, inv.PeakRSS)
}

func median(d []time.Duration) time.Duration { return quantile(d, 0.5) }
func p90(d []time.Duration) time.Duration    { return quantile(d, 0.9) }

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
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
