// Package awstest starts a real moto_server on a free loopback port for
// integration tests, and gives AWS clients pointed at it.
package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Moto is a running moto_server.
type Moto struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
}

// Region is the region the tests use.
const Region = "us-east-1"

// StartMoto starts moto_server (from PATH, or MOTO_SERVER) on 127.0.0.1 and
// stops it when the test ends. A missing moto_server fails the test: the
// README's setup installs it, and CI must not pass without it.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	bin := os.Getenv("MOTO_SERVER")
	if bin == "" {
		bin = "moto_server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("moto_server not found (%v): run `make setup` (pip install 'moto[server]')", err)
	}
	port := freePort(t)
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	m := &Moto{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(m.done) }()
	t.Cleanup(m.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-m.done:
			t.Fatalf("moto_server exited at start")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server not ready after 30 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return m
}

// Stop kills moto_server and waits for it to exit. Safe to call twice.
func (m *Moto) Stop() {
	if m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-m.done
}

// Config returns an AWS configuration for the moto server.
func (m *Moto) Config() aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(m.Endpoint),
		RetryMaxAttempts: 2,
	}
}

// Env sets the environment that runtime.AWSConfig reads so that code built
// from the environment talks to this moto server.
func (m *Moto) Env(t *testing.T) {
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_ENDPOINT_URL", m.Endpoint)
}

// CreateQueue creates a standard queue and returns its URL.
func (m *Moto) CreateQueue(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	out, err := sqs.NewFromConfig(m.Config()).CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return *out.QueueUrl
}

// CreateSecret creates a secret and returns its ARN.
func (m *Moto) CreateSecret(t testing.TB, name, value string) string {
	t.Helper()
	out, err := secretsmanager.NewFromConfig(m.Config()).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
	return *out.ARN
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// CreateIdempotencyTable creates a table shaped as template.yaml's
// IdempotencyTable (partition key "id", string) and returns its name.
func (m *Moto) CreateIdempotencyTable(t testing.TB, name string) string {
	t.Helper()
	_, err := dynamodb.NewFromConfig(m.Config()).CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	return name
}
