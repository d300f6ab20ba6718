package devstack

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rsnc-network/resonance-webhook-relay/shared/motoserver"
)

// Region is the region the local stack uses.
const Region = motoserver.Region

// Moto is a running moto_server.
type Moto = motoserver.Moto

// AWSConfig returns a configuration for endpoint with test credentials.
func AWSConfig(endpoint string) aws.Config { return motoserver.AWSConfig(endpoint) }
