// Command dev runs the whole pipeline on this machine (make dev): moto for
// SQS, DynamoDB and Secrets Manager (or the AWS_ENDPOINT_URL given), the
// queues, table and secrets template.yaml declares, the HTTP API's routes on
// 127.0.0.1:$PORT (default 3000), the forwarder fed from the events queue as
// Lambda's event source mapping would, and, unless RESONANCE_API_URL is set,
// a local Resonance sandbox that prints each award. The console shows one
// line per webhook and per award; the functions' JSON logs go to
// .aws-sam/dev.log (-v shows them here too). Ctrl-C stops it all and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/devstack"
)

// LogFile is where the functions' JSON logs go.
const LogFile = ".aws-sam/dev.log"

func main() {
	template := flag.String("template", "template.yaml", "SAM template")
	local := flag.String("local", "events/local-secrets.json", "local development secrets and parameters")
	verbose := flag.Bool("v", false, "show the functions' JSON logs on the console too")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make dev [PORT=3000] [V=1]   (go run ./cmd/dev [flags])")
		flag.PrintDefaults()
	}
	flag.Parse()
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	// Ctrl-C reaches this process alone, so that make and go run see it
	// end well rather than being interrupted themselves.
	restore := foreground()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *template, *local, port, *verbose)
	stop()
	restore()
	if err != nil {
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, template, local, port string, verbose bool) error {
	// The port first: a busy one is the commonest failure, and it should
	// not wait for moto to start.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("port %s is in use (another make dev?): stop that one, or choose another port with make dev PORT=3001", port)
		}
		return err
	}
	defer ln.Close()

	console := os.Stdout
	if !verbose {
		// The handlers log to stdout, as in Lambda: here, to the log file.
		if err := os.MkdirAll(filepath.Dir(LogFile), 0o755); err != nil {
			return err
		}
		logs, err := os.Create(LogFile)
		if err != nil {
			return err
		}
		defer logs.Close()
		os.Stdout = logs
		defer func() { os.Stdout = console }()
	}
	stack, err := devstack.Start(ctx, devstack.Config{
		Template: template, LocalFile: local, Out: console,
		Endpoint: os.Getenv("AWS_ENDPOINT_URL"), ResonanceURL: os.Getenv("RESONANCE_API_URL"),
	})
	if err != nil {
		return err
	}
	defer stack.Close()
	stack.Front.Observe = func(r devstack.Request) {
		fmt.Fprintf(console, "%s webhook  %-10s %d %-9s %s\n", time.Now().Format("15:04:05"), r.Route, r.Status, r.Outcome, r.Took.Round(time.Millisecond))
	}

	srv := &http.Server{Handler: stack.Front, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	if err := devstack.WriteOutputs(devstack.OutputsFile, stack.Outputs()); err != nil {
		return err
	}
	defer os.Remove(devstack.OutputsFile)
	fmt.Fprintf(console, "AWS endpoints  SQS %s, DynamoDB %s, Secrets Manager %s\n", stack.Endpoints.SQS, stack.Endpoints.DynamoDB, stack.Endpoints.SecretsManager)
	if stack.Sandbox != nil {
		fmt.Fprintln(console, "Resonance      local sandbox (set RESONANCE_API_URL to use a real one)")
	} else {
		fmt.Fprintf(console, "Resonance      %s\n", os.Getenv("RESONANCE_API_URL"))
	}
	if !verbose {
		fmt.Fprintf(console, "logs           %s (the functions' JSON logs; make dev V=1 shows them here)\n", LogFile)
	}
	routes := make([]string, 0, len(stack.Front.Routes))
	for r := range stack.Front.Routes {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		fmt.Fprintf(console, "route          %s%s\n", base, r[len("POST "):])
	}
	fmt.Fprintln(console, "ready: `make send` in another terminal posts the signed samples, `make invoke` runs one function against this stack, `make dlq ARGS=\"-local list\"` reads the DLQ; Ctrl-C stops")

	log := slog.New(slog.NewJSONHandler(io.Writer(os.Stdout), nil))
	done := make(chan struct{})
	go func() { stack.RunPollers(ctx, log); close(done) }()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	<-done
	fmt.Fprintln(console, "stopped")
	return nil
}
