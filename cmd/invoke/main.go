// Command invoke is the Docker-free twin of `sam local invoke` (make invoke
// FUNCTION=<LogicalId> EVENT=<file>): it runs a function's bootstrap, built
// as sam build builds it, under a local Lambda Runtime API, with the
// function's environment from template.yaml, and prints the function's
// answer. It runs against the make dev stack when one is running (its
// queues, table, secrets and sandbox: the forwarder there then pays what an
// ingest function queues, on make dev's console), and otherwise against a
// stack of its own (moto started here, or AWS_ENDPOINT_URL, and the local
// Resonance sandbox, or RESONANCE_API_URL). An ingest function's sample is
// signed afresh at use, so that the checked-in samples never expire.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
)

func main() {
	function := flag.String("function", "", "logical id in template.yaml")
	event := flag.String("event", "", "event file")
	bootstrap := flag.String("bootstrap", "", "bootstrap to run (default .aws-sam/invoke/<function>/bootstrap)")
	template := flag.String("template", "template.yaml", "SAM template")
	local := flag.String("local", "events/local-secrets.json", "local development secrets and parameters")
	fresh := flag.Bool("sign", true, "sign an ingest function's sample afresh (with the local secrets) before the invocation")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make invoke FUNCTION=<LogicalId> EVENT=<file>   (go run ./cmd/invoke -function ID -event FILE [flags])")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *function == "" || *event == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *bootstrap == "" {
		*bootstrap = ".aws-sam/invoke/" + *function + "/bootstrap"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *function, *event, *bootstrap, *template, *local, *fresh); err != nil {
		fmt.Fprintln(os.Stderr, "make invoke:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, function, eventFile, bootstrap, template, local string, fresh bool) error {
	event, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}
	for _, s := range providers.All {
		if name := s.Name; s.FunctionID == function && fresh {
			name := devstack.WithSource(name, eventFile)
			secret, err := devstack.SecretFor(eventFile, name, local)
			if err != nil {
				return err
			}
			if event, err = devstack.SignEvent(eventFile, name, secret, time.Now()); err != nil {
				return fmt.Errorf("%s: %w", eventFile, err)
			}
			with := "the local secret"
			if secret == devstack.ForgedSecret {
				with = "the wrong secret: it is a forged one"
			}
			fmt.Fprintf(os.Stderr, "signed %s afresh with %s\n", eventFile, with)
		}
	}
	if function == "ForwarderFunction" && fresh {
		if event, err = restamp(event, local); err != nil {
			return fmt.Errorf("%s: %w", eventFile, err)
		}
		fmt.Fprintf(os.Stderr, "stamped %s's envelopes as received now (the forwarder refuses old ones)\n", eventFile)
	}
	cfg := devstack.Config{
		Template: template, LocalFile: local, Out: os.Stderr,
		Endpoint: os.Getenv("AWS_ENDPOINT_URL"), ResonanceURL: os.Getenv("RESONANCE_API_URL"),
	}
	if o, ok := devstack.Running(devstack.OutputsFile); ok && cfg.Endpoint == "" && cfg.ResonanceURL == "" {
		cfg.Endpoints, cfg.ResonanceURL = o.Endpoints, o.ResonanceURL
		cfg.Options.Prefix = o.Prefix
		fmt.Fprintf(os.Stderr, "using the running make dev stack (SQS %s): what this queues is forwarded there, and awards print on its console\n", o.Endpoints.SQS)
	} else if cfg.Endpoint == "" {
		fmt.Fprintln(os.Stderr, "no make dev stack is running: starting a stack of its own (moto and the Resonance sandbox), gone when this ends")
	}
	stack, err := devstack.Prepare(ctx, cfg)
	if err != nil {
		return err
	}
	defer stack.Close()
	f, ok := stack.Function(function)
	if !ok {
		return fmt.Errorf("no function %s in %s", function, template)
	}
	env := stack.LambdaEnv()
	for k, v := range f.Env {
		env[k] = v
	}
	inv, err := devstack.RunBootstrap(ctx, bootstrap, env, event, time.Duration(f.Timeout)*time.Second)
	if inv != nil && inv.Logs != "" {
		fmt.Fprint(os.Stderr, inv.Logs)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s answered in %s (process start to answer)\n", function, inv.Answered.Sub(inv.Started).Round(time.Microsecond))
	if inv.Error != nil {
		fmt.Println(string(inv.Error))
		return fmt.Errorf("%s returned an error", function)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, inv.Response, "", "  ") != nil {
		pretty.Write(inv.Response)
	}
	fmt.Println(pretty.String())
	return nil
}

// restamp makes a ForwarderFunction sample's envelopes what ingest would
// queue now, signed with the local envelope key.
func restamp(event []byte, local string) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	key, err := devstack.EnvelopeKey(local)
	if err != nil {
		return nil, err
	}
	if err := samples.RestampSQS(&ev, key, time.Now()); err != nil {
		return nil, err
	}
	return json.Marshal(ev)
}
