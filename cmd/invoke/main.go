// Command invoke is the Docker-free twin of `sam local invoke` (make invoke
// FUNCTION=<LogicalId> EVENT=<file>): it runs a function's bootstrap, built
// as sam build builds it, under a local Lambda Runtime API, with the
// function's environment from template.yaml, against moto (started here, or
// AWS_ENDPOINT_URL) and the local Resonance sandbox (or RESONANCE_API_URL),
// and prints the function's answer.
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

	"github.com/rsnc-network/resonance-webhook-relay/shared/devstack"
)

func main() {
	function := flag.String("function", "", "logical id in template.yaml")
	event := flag.String("event", "", "event file")
	bootstrap := flag.String("bootstrap", "", "bootstrap to run (default .aws-sam/invoke/<function>/bootstrap)")
	template := flag.String("template", "template.yaml", "SAM template")
	local := flag.String("local", "events/local-secrets.json", "local development secrets and parameters")
	flag.Parse()
	if *function == "" || *event == "" {
		fmt.Fprintln(os.Stderr, "usage: invoke -function <LogicalId> -event <file>")
		os.Exit(2)
	}
	if *bootstrap == "" {
		*bootstrap = ".aws-sam/invoke/" + *function + "/bootstrap"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *function, *event, *bootstrap, *template, *local); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, function, eventFile, bootstrap, template, local string) error {
	event, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}
	stack, err := devstack.Prepare(ctx, devstack.Config{
		Template: template, LocalFile: local, Out: os.Stderr,
		Endpoint: os.Getenv("AWS_ENDPOINT_URL"), ResonanceURL: os.Getenv("RESONANCE_API_URL"),
	})
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
