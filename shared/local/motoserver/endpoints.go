package motoserver

import (
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Endpoints are where each AWS service the relay uses is served.
type Endpoints struct {
	SQS, DynamoDB, SecretsManager string
}

// Same is one endpoint for every service.
func Same(endpoint string) Endpoints { return Endpoints{endpoint, endpoint, endpoint} }

// bySDKID maps the service clients' SDK ids to their endpoints.
func (e Endpoints) bySDKID() map[string]string {
	return map[string]string{SQS: e.SQS, DynamoDB: e.DynamoDB, SecretsManager: e.SecretsManager}
}

// Env is the environment that points the AWS SDKs (and runtime.AWSConfig)
// at these endpoints: AWS_ENDPOINT_URL for any other service, and
// AWS_ENDPOINT_URL_<SERVICE> for each of these.
func (e Endpoints) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":                 e.SQS,
		"AWS_ENDPOINT_URL_SQS":             e.SQS,
		"AWS_ENDPOINT_URL_DYNAMODB":        e.DynamoDB,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": e.SecretsManager,
	}
}

// Service ids, as the AWS SDKs name the services.
const (
	SQS            = "SQS"
	DynamoDB       = "DynamoDB"
	SecretsManager = "Secrets Manager"
)

// Config returns a configuration with test credentials for the service
// (SQS, DynamoDB or SecretsManager).
func (e Endpoints) Config(service string) aws.Config { return AWSConfig(e.bySDKID()[service]) }

// StartServices starts the moto servers for the relay's services: one for
// SQS, and one for DynamoDB and Secrets Manager, so that the two halves of
// the work (in the end-to-end test, about 55% and 45% of moto's CPU) do not
// queue behind one Python interpreter lock. With every process held to a
// third of a core, as on a slow machine, the end-to-end test took 72 s so
// against 104 s with one server; on a fast machine the two are even. The
// servers start at once, side by side.
func StartServices(logTo *os.File) (Endpoints, []*Moto, error) {
	var wg sync.WaitGroup
	ms := make([]*Moto, 2)
	errs := make([]error, 2)
	for i := range ms {
		wg.Add(1)
		go func() { defer wg.Done(); ms[i], errs[i] = Start(logTo) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, m := range ms {
				if m != nil {
					m.Stop()
				}
			}
			return Endpoints{}, nil, err
		}
	}
	return Endpoints{SQS: ms[0].Endpoint, DynamoDB: ms[1].Endpoint, SecretsManager: ms[1].Endpoint}, ms, nil
}
