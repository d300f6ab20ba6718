package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
)

// OutputsFile is where `make dev` writes the running local stack's outputs,
// for the tools that act on it (make dlq -local).
const OutputsFile = ".aws-sam/dev-outputs.json"

// Outputs is what a tool needs to reach the local stack, named as the
// template's outputs.
type Outputs struct {
	Endpoints          motoserver.Endpoints `json:"AwsEndpoints"`
	EventsQueueURL     string               `json:"EventsQueueUrl"`
	DeadLetterQueueURL string               `json:"DeadLetterQueueUrl"`
	IdempotencyTable   string               `json:"IdempotencyTableName"`
	EnvelopeKeyArn     string               `json:"EnvelopeKeyArn"`
	LedgerTable        string               `json:"LedgerTableName"`
	LedgerKeyArn       string               `json:"LedgerKeyArn"`
	ResonanceURL       string               `json:"ResonanceUrl"`
	Prefix             string               `json:"Prefix"`  // of the resources' names
	Pid                int                  `json:"Pid"`     // of the make dev process
	BaseURL            string               `json:"BaseUrl"` // where make dev serves the webhooks
}

// Outputs returns the stack's outputs.
func (s *Stack) Outputs() Outputs {
	return Outputs{Endpoints: s.Endpoints, EventsQueueURL: s.Resolver.Refs["EventsQueue"],
		DeadLetterQueueURL: s.Resolver.Refs["DeadLetterQueue"], IdempotencyTable: s.Resolver.Refs["IdempotencyTable"], EnvelopeKeyArn: s.Resolver.Refs["EnvelopeKey"],
		LedgerTable: s.Resolver.Refs["LedgerTable"], LedgerKeyArn: s.Resolver.Refs["LedgerKey"], ResonanceURL: s.Resolver.Params["ResonanceApiUrl"], Prefix: s.prefix, Pid: os.Getpid()}
}

// Running reads the outputs of the make dev stack that is running, if one
// is: the file is there, its process lives, and its SQS endpoint answers.
func Running(path string) (Outputs, bool) {
	o, err := ReadOutputs(path)
	if err != nil || o.Endpoints.SQS == "" || !motoserver.Alive(o.Pid) {
		return o, false
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(o.Endpoints.SQS + "/moto-api/")
	if err != nil {
		return o, false
	}
	resp.Body.Close()
	return o, true
}

// WriteOutputs writes o to path.
func WriteOutputs(path string, o Outputs) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(o, "", "  ")
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadOutputs reads what WriteOutputs wrote.
func ReadOutputs(path string) (Outputs, error) {
	var o Outputs
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return o, fmt.Errorf("no local stack (%s is missing): start one with make dev", path)
	}
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(b, &o); err != nil || o.Endpoints.SQS == "" || o.DeadLetterQueueURL == "" || o.EventsQueueURL == "" {
		return o, fmt.Errorf("%s: not the local stack's outputs", path)
	}
	return o, nil
}
