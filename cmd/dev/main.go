// Command dev runs the whole pipeline on this machine (make dev): moto for
// SQS, DynamoDB and Secrets Manager (or the AWS_ENDPOINT_URL given), the
// queues, table and secrets template.yaml declares, the HTTP API's routes on
// 127.0.0.1:$PORT (default 3000), the forwarder fed from the events queue as
// Lambda's event source mapping would, and, unless RESONANCE_API_URL is set,
// a local Resonance sandbox that prints each award. Ctrl-C stops it all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/devstack"
)

func main() {
	template := flag.String("template", "template.yaml", "SAM template")
	local := flag.String("local", "events/local-secrets.json", "local development secrets and parameters")
	flag.Parse()
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *template, *local, port); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, template, local, port string) error {
	stack, err := devstack.Start(ctx, devstack.Config{
		Template: template, LocalFile: local,
		Endpoint: os.Getenv("AWS_ENDPOINT_URL"), ResonanceURL: os.Getenv("RESONANCE_API_URL"),
	})
	if err != nil {
		return err
	}
	defer stack.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: stack.Front, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	if err := devstack.WriteOutputs(devstack.OutputsFile, stack.Outputs()); err != nil {
		return err
	}
	defer os.Remove(devstack.OutputsFile)
	fmt.Printf("AWS endpoint   %s\n", stack.Endpoint)
	if stack.Sandbox != nil {
		fmt.Println("Resonance      local sandbox (set RESONANCE_API_URL to use a real one)")
	} else {
		fmt.Printf("Resonance      %s\n", os.Getenv("RESONANCE_API_URL"))
	}
	routes := make([]string, 0, len(stack.Front.Routes))
	for r := range stack.Front.Routes {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		fmt.Printf("route          %s%s\n", base, r[len("POST "):])
	}
	fmt.Printf("ready: `make send` in another terminal posts the signed samples, `make dlq ARGS=\"-local list\"` reads the DLQ; Ctrl-C stops\n")

	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	done := make(chan struct{})
	go func() { stack.RunPollers(ctx, log); close(done) }()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	<-done
	fmt.Println("stopped")
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}
