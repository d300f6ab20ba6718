package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awstest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

const email = "carla.hidden@example.com"

// ledgerOn creates a ledger table and its key secret on m, named as make
// dev names them (or as given), and writes a paid purchase later refunded
// in part and a held one, with the ledger package.
func ledgerOn(t *testing.T, m *awstest.Moto, table, secret string) (secretArn string) {
	t.Helper()
	const keyText = "0123456789abcdef0123456789abcdef0123456789"
	m.CreateLedgerTable(t, table)
	secretArn = m.CreateSecret(t, secret, keyText)
	keys, err := ledger.ParseKeys(keyText)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	l := &ledger.DynamoDB{Client: &motoserver.AtomicDynamoDB{Client: dynamodb.NewFromConfig(m.Config())}, Table: table, Now: func() time.Time { return now }}
	e := ledger.Entry{PK: "shopify:order:7", Mode: ledger.Live, Provider: "shopify", OrderID: "7", EventType: "purchase", Currency: "USD",
		Value: "70", Customer: keys.Customer(email), Email: mapping.MaskEmail(email)}
	if _, err := l.Settle(ctx, e.PK, ledger.Settlement{Status: ledger.Paid, PaidValue: "70", HTTPStatus: 200, RewardAmount: "7", TxHash: "0xf00", Decision: &e}, []string{""}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Reverse(ctx, e.PK, mapping.Reversal{Key: e.PK, ID: "r1", Reason: mapping.ReverseRefund, Amount: "7", OrderID: "7"}); err != nil {
		t.Fatal(err)
	}
	h := e
	h.PK, h.OrderID, h.Status, h.DueAt = "shopify:order:8", "8", ledger.Held, now.Add(72*time.Hour)
	if _, err := l.Decide(ctx, h); err != nil {
		t.Fatal(err)
	}
	return secretArn
}

// TestCommands runs the command as an operator would, against moto: the
// ledger found from -local (make dev's outputs), -stack (a stack's
// outputs) or -table.
func TestCommands(t *testing.T) {
	m := awstest.StartMoto(t)
	m.Env(t)
	ledgerOn(t, m, "local-LedgerTable", "local-LedgerKey")
	arn := ledgerOn(t, m, "deployed-ledger", "deployed-ledger-key")
	const tpl = `{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}},
"Outputs":{"LedgerTableName":{"Value":"deployed-ledger"},"LedgerKeyArn":{"Value":"%ARN%"}}}`
	cf := cloudformation.NewFromConfig(m.Config())
	for name, body := range map[string]string{"my-relay": strings.ReplaceAll(tpl, "%ARN%", arn), "old-relay": `{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}`} {
		if _, err := cf.CreateStack(context.Background(), &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(t.TempDir())
	if err := devstack.WriteOutputs(devstack.OutputsFile, devstack.Outputs{Endpoints: motoserver.Same(m.Endpoint),
		EventsQueueURL: "events", DeadLetterQueueURL: "dlq", Prefix: "local"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		args    []string
		want    []string // regular expressions the output must match
		wantErr error
	}{
		{"held, local", []string{"-local", "held"}, []string{`^ledger local-LedgerTable \(local stack at http://`, `(?m)^held rewards at .*: 1$`, `(?m) +2d2[0-9]h +live +held +shopify +8 +c\*\*\*@example\.com +70 USD +- +70 USD$`}, nil},
		{"refunded, stack", []string{"-stack", "my-relay", "refunded"}, []string{`^ledger deployed-ledger \(stack my-relay\)`, `(?m)^c\*\*\*@example\.com \([0-9a-f]{8}\) +7 +shopify +.* +70 USD +7 USD +7 +partial refund +0xf00$`}, nil},
		{"customer, stack: the key from its outputs", []string{"-stack", "my-relay", "customer", email}, []string{`(?m)^customer c\*\*\*@example\.com \([0-9a-f]{32}\): 2 records`}, nil},
		{"customer, local: the key named as make dev names it", []string{"-local", "customer", strings.ToUpper(email)}, []string{`(?m): 2 records`}, nil},
		{"customer, table without a key", []string{"-table", "deployed-ledger", "customer", email}, []string{`^ledger deployed-ledger \(given table\)`}, errors.New("needs the ledger key")},
		{"order, table, -json after the command", []string{"-table", "deployed-ledger", "order", "7", "-json"}, []string{`^\{\n  "order_id": "7"`, `"tx_hash": "0xf00"`}, nil},
		{"summary, -json first", []string{"-json", "-local", "summary", time.Now().UTC().Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly)}, []string{`"by_status": \{\n\s+"held": \{\n\s+"count": 1,`}, nil},
		{"summary, a day without rewards", []string{"-local", "summary", "2020-01-01", "2020-01-31"}, []string{`(?m)^rewards decided from 2020-01-01 through 2020-01-31 \(UTC days\)\n\nLIVE: 0 rewards`}, nil},
		{"a stack of an older template", []string{"-stack", "old-relay", "held"}, nil, errors.New("no LedgerTableName output")},
		{"no command", []string{"-local"}, nil, errUsage},
		{"two places", []string{"-local", "-table", "x", "held"}, nil, errUsage},
		{"no place", []string{"held"}, nil, errUsage},
		{"unknown command", []string{"-local", "pay"}, nil, errUsage},
		{"order without an id", []string{"-local", "order"}, nil, errUsage},
		{"summary with one date", []string{"-local", "summary", "2026-11-01"}, nil, errUsage},
		{"summary, not a date", []string{"-local", "summary", "2026-11-01", "yesterday"}, nil, errUsage},
		{"summary, TO before FROM", []string{"-local", "summary", "2026-11-02", "2026-11-01"}, nil, errUsage},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, progress bytes.Buffer
			err := run(context.Background(), c.args, &out, &progress)
			var sentinel bool
			if c.wantErr != nil {
				sentinel = errors.Is(c.wantErr, errUsage)
			}
			switch {
			case c.wantErr == nil && err != nil:
				t.Fatalf("error %v\n%s", err, out.String())
			case c.wantErr != nil && err == nil:
				t.Fatalf("no error, want %v\n%s", c.wantErr, out.String())
			case sentinel && !errors.Is(err, errUsage):
				t.Fatalf("error %v, want %v", err, c.wantErr)
			case c.wantErr != nil && !sentinel && !strings.Contains(err.Error(), c.wantErr.Error()):
				t.Fatalf("error %v, want one that says %q", err, c.wantErr)
			}
			if strings.Contains(strings.ToLower(out.String()+progress.String()), "carla.hidden") {
				t.Fatalf("output shows the email:\n%s", out.String())
			}
			if c.wantErr == nil && strings.Contains(strings.Join(c.args, " "), "-json") && !json.Valid(out.Bytes()) {
				t.Fatalf("-json output is not JSON:\n%s", out.String())
			}
			for _, w := range c.want {
				if !regexp.MustCompile(w).MatchString(out.String()) {
					t.Fatalf("output lacks %s:\n%s", w, out.String())
				}
			}
		})
	}
}
