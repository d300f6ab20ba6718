// Command deploy-check says, before anything is created, whether this
// machine can run sam deploy: the SAM CLI, AWS credentials that AWS accepts,
// and a region. make deploy runs it first, and stops with what to do for
// each thing missing.
//
//	make deploy    (or go run ./cmd/deploy-check)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

func main() {
	flag.Usage = func() { fmt.Fprintln(os.Stderr, "usage: make deploy   (checks, then sam build and sam deploy)") }
	flag.Parse()
	var missing []string
	if v, err := exec.Command("sam", "--version").Output(); err != nil {
		missing = append(missing, `the AWS SAM CLI (sam) is not installed. Install it:
    Linux:   curl -LO https://github.com/aws/aws-sam-cli/releases/latest/download/aws-sam-cli-linux-x86_64.zip
             unzip aws-sam-cli-linux-x86_64.zip -d sam-installation && sudo ./sam-installation/install
             (arm64 machines: aws-sam-cli-linux-arm64.zip)
    macOS:   brew install aws-sam-cli
    Windows: winget install Amazon.SAM-CLI
    any:     python3 -m pip install --user aws-sam-cli
  See https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html`)
	} else {
		fmt.Printf("ok  %s\n", strings.TrimSpace(string(v)))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(logging.Nop{}))
	region := cfg.Region
	if region == "" {
		region = samconfigRegion("samconfig.toml")
	}
	if err != nil {
		missing = append(missing, fmt.Sprintf("the AWS configuration could not be read (%v). Check AWS_PROFILE and ~/.aws/config.", err))
	} else if creds, err := cfg.Credentials.Retrieve(ctx); err != nil {
		missing = append(missing, `no AWS credentials were found. Give sam some, one of:
    aws configure                    (an access key, into ~/.aws/credentials)
    aws configure sso && aws sso login --profile NAME, then export AWS_PROFILE=NAME
    export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... (AWS_SESSION_TOKEN=... for temporary ones)
  The AWS CLI: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html`)
	} else {
		if region == "" {
			cfg.Region = "us-east-1" // STS answers in any region; the deploy region is checked below
		}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		var netErr *net.OpError
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded):
			missing = append(missing, fmt.Sprintf("AWS could not be reached to check the credentials from %s (%v).\n  Check the network (and HTTPS_PROXY if you use one), then try again.", creds.Source, short(err)))
		case err != nil:
			missing = append(missing, fmt.Sprintf("AWS did not accept the credentials from %s (%v).\n  Renew them (aws sso login, or new keys with aws configure) and try again.", creds.Source, short(err)))
		default:
			fmt.Printf("ok  AWS credentials of %s (account %s, from %s)\n", aws.ToString(id.Arn), aws.ToString(id.Account), creds.Source)
		}
	}
	if region == "" {
		missing = append(missing, `no AWS region is set. Choose the one to deploy to, one of:
    export AWS_REGION=us-east-1
    aws configure set region us-east-1
  (sam deploy --guided also asks, and remembers it in samconfig.toml)`)
	} else {
		fmt.Printf("ok  region %s\n", region)
	}
	if len(missing) > 0 {
		fmt.Fprintln(os.Stderr, "make deploy: nothing was created; this machine is missing what sam deploy needs:")
		for _, m := range missing {
			fmt.Fprintln(os.Stderr, "- "+m)
		}
		os.Exit(1)
	}
}

// samconfigRegion reads the region sam deploy --guided saved, if any.
func samconfigRegion(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`(?m)^\s*region\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

func short(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
