package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/sqspoll"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// Config says how to start the local stack.
type Config struct {
	Template  string // path of template.yaml
	LocalFile string // path of events/local-secrets.json
	// Endpoint is an AWS endpoint to use for every service, and Endpoints
	// one per service (a running make dev stack's); with neither, moto
	// servers are started (motoserver.StartServices).
	Endpoint  string
	Endpoints motoserver.Endpoints
	// ResonanceURL is where rewards go; empty starts the local sandbox.
	ResonanceURL string
	// Env is added to every function's environment (after the template's).
	Env      map[string]string
	Options  Options
	Out      io.Writer // sandbox and status lines (default stdout)
	MotoLogs *os.File  // moto_server's own log (default discarded)
}

// Stack is a running local stack.
type Stack struct {
	Moto      *motoserver.Moto   // the SQS one; nil when an endpoint was given
	Motos     []*motoserver.Moto // all that were started
	Endpoints motoserver.Endpoints
	Resolver  *Resolver
	Functions []Function
	Front     *Front
	Pollers   []*PollerSet
	Schedules []*Schedule // functions invoked on a schedule (the releaser)
	// TimeScale divides the schedules' periods (the end-to-end test
	// compresses time: a minute of the releaser's is a second at 60).
	TimeScale int
	Sandbox   *Sandbox // nil when ResonanceURL was given
	sandbox   *httptest.Server
	prefix    string
}

// PollerSet is a queue-triggered function's event source mapping.
type PollerSet struct {
	Function Function
	Poller   *sqspoll.Poller
	Workers  int
}

// Start provisions the stack and builds every function's handler.
func Start(ctx context.Context, c Config) (*Stack, error) {
	s, err := Prepare(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.build(c.Env); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Prepare provisions the stack (moto, resources, sandbox) and resolves the
// functions' environments, without building their handlers.
func Prepare(ctx context.Context, c Config) (*Stack, error) {
	t, err := LoadTemplate(c.Template)
	if err != nil {
		return nil, err
	}
	lf, err := LoadLocalFile(c.LocalFile)
	if err != nil {
		return nil, err
	}
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	s := &Stack{Endpoints: motoserver.Same(c.Endpoint)}
	if c.Endpoints.SQS != "" {
		s.Endpoints = c.Endpoints
	}
	if s.Endpoints.SQS == "" {
		if s.Endpoints, s.Motos, err = motoserver.StartServices(c.MotoLogs); err != nil {
			return nil, err
		}
		s.Moto = s.Motos[0]
	}
	// What Lambda's environment gives every function, for the handlers
	// built in this process.
	for k, v := range s.LambdaEnv() {
		os.Setenv(k, v)
	}
	opts := c.Options
	opts.Params = mergeMaps(opts.Params, nil) // a copy: the caller's map stays as it is
	if c.ResonanceURL == "" {
		creds, _ := resonance.ParseCredentials(string(lf.Secrets["ResonanceSecret"]))
		s.Sandbox = &Sandbox{Out: out, APIKey: creds.APIKey, HMACSecret: creds.HMACSecret, BrandID: lf.Parameters["ResonanceBrandId"]}
		s.sandbox = httptest.NewServer(s.Sandbox)
		c.ResonanceURL = s.sandbox.URL
	}
	opts.Params["ResonanceApiUrl"] = c.ResonanceURL
	s.prefix = opts.Prefix
	if s.prefix == "" {
		s.prefix = "local"
	}
	if s.Resolver, err = Provision(ctx, s.Endpoints, t, lf, opts); err != nil {
		s.Close()
		return nil, err
	}
	if s.Functions, err = t.Functions(s.Resolver); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// LambdaEnv is what Lambda's environment gives every function here.
func (s *Stack) LambdaEnv() map[string]string {
	return mergeMaps(map[string]string{
		"AWS_REGION": motoserver.Region, "AWS_DEFAULT_REGION": motoserver.Region, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_SESSION_TOKEN": "",
	}, s.Endpoints.Env())
}

// Function returns the function with the logical id.
func (s *Stack) Function(id string) (Function, bool) {
	for _, f := range s.Functions {
		if f.ID == id {
			return f, true
		}
	}
	return Function{}, false
}

func (s *Stack) build(extra map[string]string) error {
	s.Front = &Front{Routes: map[string]HTTPHandler{}}
	client := sqs.NewFromConfig(s.Endpoints.Config(motoserver.SQS))
	for _, f := range s.Functions {
		f.Env = mergeMaps(f.Env, extra)
		h, err := build(f)
		if err != nil {
			return fmt.Errorf("%s: %w", f.ID, err)
		}
		switch h := h.(type) {
		case HTTPHandler:
			for _, r := range f.Routes {
				s.Front.Routes[r.Method+" "+r.Path] = h
			}
		case ScheduleHandler:
			if f.Every > 0 {
				s.Schedules = append(s.Schedules, &Schedule{Function: f, Every: f.Every, Handler: h})
			}
		case QueueHandler:
			if f.Queue == nil {
				continue
			}
			workers := min(max(f.Queue.MaxConcurrency, 1), 2)
			s.Pollers = append(s.Pollers, &PollerSet{Function: f, Workers: workers, Poller: &sqspoll.Poller{
				Client: client, QueueURL: s.Resolver.Refs[f.Queue.QueueID], QueueARN: s.Resolver.Attrs[f.Queue.QueueID]["Arn"],
				BatchSize: int32(f.Queue.BatchSize), Timeout: time.Duration(f.Timeout) * time.Second, Handler: sqspoll.Handler(h),
			}})
		}
	}
	return nil
}

// Schedule is a function invoked on a schedule. Locally its period is
// Every divided by the stack's TimeScale.
type Schedule struct {
	Function Function
	Every    time.Duration
	Handler  ScheduleHandler
}

// RunPollers feeds the queues to their functions, and invokes the
// scheduled ones, until ctx ends.
func (s *Stack) RunPollers(ctx context.Context, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, sc := range s.Schedules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every := sc.Every
			if s.TimeScale > 1 {
				every = max(every/time.Duration(s.TimeScale), 100*time.Millisecond)
			}
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := sc.Handler(ctx); err != nil && ctx.Err() == nil && log != nil {
						log.Warn("schedule", "function", sc.Function.ID, "error", err.Error())
					}
				}
			}
		}()
	}
	for _, ps := range s.Pollers {
		for range ps.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					if _, _, err := ps.Poller.Once(ctx); err != nil && ctx.Err() == nil {
						if log != nil {
							log.Warn("poller", "function", ps.Function.ID, "error", err.Error())
						}
						time.Sleep(time.Second)
					}
				}
			}()
		}
	}
	wg.Wait()
}

// Close stops what Start started.
func (s *Stack) Close() {
	if s.sandbox != nil {
		s.sandbox.Close()
	}
	for _, m := range s.Motos {
		m.Stop()
	}
}

func mergeMaps(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
