// Package awsstack gives the operators' tools (make dlq, make rewards) the
// AWS configuration and a deployed stack's outputs.
package awsstack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// Config loads the default AWS configuration, in region when it is set.
func Config(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}

// Outputs returns the stack's outputs by key.
func Outputs(ctx context.Context, cfg aws.Config, stack string) (map[string]string, error) {
	res, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	if len(res.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s not found", stack)
	}
	out := map[string]string{}
	for _, o := range res.Stacks[0].Outputs {
		out[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return out, nil
}
