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
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
)

// stateDir holds dev-outputs.json (how the tools find this stack) and
// dev.log; RELAY_DEV_DIR moves both (the tests run their own make dev).
func stateDir() string {
	if d := os.Getenv("RELAY_DEV_DIR"); d != "" {
		return d
	}
	return filepath.Dir(devstack.OutputsFile)
}

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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, end := context.WithCancel(ctx)
	restore := foreground(end)   // the terminal closed: stop as on SIGHUP
	motoserver.WhenOrphaned(end) // make killed: stop as on SIGTERM
	err := run(ctx, *template, *local, port, *verbose)
	end()
	stop()
	restore()
	if err != nil {
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, template, local, port string, verbose bool) error {
	// One make dev at a time: the tools (make dlq -local, make invoke) find
	// it by its outputs file, and it owns .aws-sam/dev.log.
	outputsFile, logFile := filepath.Join(stateDir(), filepath.Base(devstack.OutputsFile)), filepath.Join(stateDir(), "dev.log")
	if o, ok := devstack.Running(outputsFile); ok {
		return fmt.Errorf("make dev is already running (pid %d, %s): use that one, or stop it first", o.Pid, o.BaseURL)
	}
	// The port next: a busy one is the commonest failure, and it should
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
		if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
			return err
		}
		logs, err := os.Create(logFile)
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
		if ctx.Err() != nil { // Ctrl-C while it was starting
			fmt.Fprintln(console, "stopped before it was ready")
			return nil
		}
		return err
	}
	defer stack.Close()
	stack.Front.Observe = func(r devstack.Request) {
		fmt.Fprintf(console, "%s webhook  %-10s %d %-9s %s\n", time.Now().Format("15:04:05"), r.Route, r.Status, r.Outcome, r.Took.Round(time.Millisecond))
	}

	srv := &http.Server{Handler: stack.Front, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	outputs := stack.Outputs()
	outputs.BaseURL = base
	if err := devstack.WriteOutputs(outputsFile, outputs); err != nil {
		return err
	}
	defer os.Remove(outputsFile)
	fmt.Fprintf(console, "AWS endpoints  SQS %s, DynamoDB %s, Secrets Manager %s\n", stack.Endpoints.SQS, stack.Endpoints.DynamoDB, stack.Endpoints.SecretsManager)
	if stack.Sandbox != nil {
		fmt.Fprintln(console, "Resonance      local sandbox (set RESONANCE_API_URL to use a real one)")
	} else {
		fmt.Fprintf(console, "Resonance      %s\n", os.Getenv("RESONANCE_API_URL"))
	}
	if !verbose {
		fmt.Fprintf(console, "logs           %s (the functions' JSON logs; make dev V=1 shows them here)\n", logFile)
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

	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
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
