package devstack

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rsnc-network/resonance-webhook-relay/shared/forward"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/release"
)

// HTTPHandler is an API Gateway HTTP API function.
type HTTPHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// QueueHandler is an SQS-triggered function with partial batch responses.
type QueueHandler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// ScheduleHandler is a function an EventBridge schedule invokes.
type ScheduleHandler func(context.Context) error

// build calls, for a logical id, what that function's main calls, with the
// function's environment from the template. Which package a function runs
// is the Makefile's build-<LogicalId> target; this mirrors it in-process.
func build(f Function) (any, error) {
	var out any
	err := withEnv(f.Env, func() error {
		if f.ID == "ForwarderFunction" {
			fw, err := forward.FromEnv()
			if err == nil {
				atomicOnMoto(fw)
				out = QueueHandler(fw.Handle)
			}
			return err
		}
		if f.ID == "ReleaserFunction" {
			r, err := release.FromEnv()
			if err == nil {
				if d, ok := r.Ledger.(*ledger.DynamoDB); ok {
					atomicClient(&d.Client)
				}
				out = ScheduleHandler(r.Handle)
			}
			return err
		}
		for _, s := range providers.All {
			if s.FunctionID == f.ID {
				h, err := ingest.FromEnv(s)
				if err == nil {
					out = HTTPHandler(h.Handle)
				}
				return err
			}
		}
		return fmt.Errorf("devstack: no handler for function %s", f.ID)
	})
	return out, err
}

// atomicOnMoto sends the forwarder's idempotency writes through
// motoserver.AtomicDynamoDB: moto's conditional writes are not atomic.
func atomicOnMoto(fw *forward.Forwarder) {
	if d, ok := fw.Store.(*idempotency.DynamoDB); ok {
		if c, ok := d.Client.(*dynamodb.Client); ok {
			d.Client = &motoserver.AtomicDynamoDB{Client: c}
		}
	}
	if d, ok := fw.Ledger.(*ledger.DynamoDB); ok {
		atomicClient(&d.Client)
	}
}

// atomicClient wraps a ledger's DynamoDB client in motoserver.AtomicDynamoDB.
func atomicClient[C any](client *C) {
	if c, ok := any(*client).(*dynamodb.Client); ok {
		if w, ok := any(&motoserver.AtomicDynamoDB{Client: c}).(C); ok {
			*client = w
		}
	}
}

var envMu sync.Mutex

// withEnv runs fn with vars set in the process environment, then restores it.
func withEnv(vars map[string]string, fn func() error) error {
	envMu.Lock()
	defer envMu.Unlock()
	old := map[string]*string{}
	for k, v := range vars {
		if prev, ok := os.LookupEnv(k); ok {
			old[k] = &prev
		} else {
			old[k] = nil
		}
		os.Setenv(k, v)
	}
	defer func() {
		for k, v := range old {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	}()
	return fn()
}
