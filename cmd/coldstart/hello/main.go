// Command hello is the floor for cmd/coldstart: the smallest aws-lambda-go
// function, built with the same flags as the relay's functions.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
