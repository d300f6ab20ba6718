// Package runtime holds the wiring the Lambda mains share: the JSON logger
// and the AWS configuration.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Logger returns a JSON logger on stdout at the level Lambda's
// ApplicationLogLevel sets (AWS_LAMBDA_LOG_LEVEL), INFO by default. In
// Lambda (AWS_LAMBDA_FUNCTION_NAME set) it leaves out the time: CloudWatch
// stamps every event, and 46 bytes a line are a tenth of the log bill.
func Logger() *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToUpper(os.Getenv("AWS_LAMBDA_LOG_LEVEL")) {
	case "TRACE", "DEBUG":
		level = slog.LevelDebug
	case "WARN":
		level = slog.LevelWarn
	case "ERROR", "FATAL":
		level = slog.LevelError
	}
	inLambda := os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" && os.Getenv("AWS_LAMBDA_RUNTIME_API") != ""
	return JSONLogger(os.Stdout, level, !inLambda)
}

// JSONLogger is the functions' logger writing to w at level; without
// withTime it leaves out the time field, as Logger does in Lambda.
func JSONLogger(w io.Writer, level slog.Level, withTime bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if !withTime {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// AWSConfig builds the AWS configuration from the environment that Lambda
// gives every function: AWS_REGION and the execution role's credentials in
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (valid for
// the life of the execution environment). AWS_ENDPOINT_URL, when set, points
// every client at another endpoint (moto in tests and locally), and
// AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_SQS, _DYNAMODB,
// _SECRETS_MANAGER: the SDK's own names) one service's clients, as the AWS
// SDKs and CLI read them.
//
// It deliberately does not use config.LoadDefaultConfig: that links the
// SSO, STS and IMDS credential chains, 2 MB of binary and cold-start work a
// Lambda never needs.
func AWSConfig() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || key == "" || secret == "" {
		return aws.Config{}, errors.New("AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required (Lambda sets them)")
	}
	cfg := aws.Config{
		Region:           region,
		Credentials:      aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, os.Getenv("AWS_SESSION_TOKEN"))),
		RetryMaxAttempts: 3,
		ConfigSources:    []any{serviceEndpoints{}},
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// serviceEndpoints gives each service client its AWS_ENDPOINT_URL_<SERVICE>:
// the clients ask their configuration's sources for it by the service's SDK
// id ("SQS", "DynamoDB", "Secrets Manager") when that variable is set.
type serviceEndpoints struct{}

func (serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := os.Getenv(ServiceEndpointEnv(sdkID))
	return v, v != "", nil
}

// ServiceEndpointEnv is the variable that holds a service's endpoint, from
// its SDK id: upper case, spaces as underscores.
func ServiceEndpointEnv(sdkID string) string {
	return "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_"))
}

// Env returns the environment variable name, or an error when it is unset.
func Env(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("environment variable %s is required", name)
	}
	return v, nil
}

// Duration returns the duration in environment variable name, or def.
func Duration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("environment variable %s: %q is not a duration such as 5m", name, v)
	}
	return d, nil
}

// Int returns the positive integer in environment variable name, or def.
func Int(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("environment variable %s: %q is not a positive integer", name, v)
	}
	return n, nil
}
