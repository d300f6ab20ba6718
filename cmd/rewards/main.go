// Command rewards reads the relay's ledger (make rewards): what was paid,
// held, voided, skipped by a rule or recorded by a dry run, and what was
// refunded after it was paid. It only reads.
//
//	rewards [where] [-json] order ID          every record of one order, live and dry run
//	rewards [where] [-json] customer EMAIL    one customer's records (by the ledger's keyed hash)
//	rewards [where] [-json] held              what is pending and when it pays
//	rewards [where] [-json] refunded          paid, then refunded: what to claw back by hand
//	rewards [where] [-json] summary FROM TO   counts and value by provider, outcome and reason
//
// where is one of:
//
//	-stack NAME [-region R]                   a deployed stack (its LedgerTableName and LedgerKeyArn outputs)
//	-table NAME [-key SECRET]                 an explicit ledger table (and ledger key secret, for customer)
//	-local                                    the stack `make dev` is running
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awsstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/rewards"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

const usage = `usage: make rewards ARGS="[-stack NAME [-region R] | -table NAME [-key SECRET] | -local] [-json] COMMAND"
commands:
  order ID            every record of the order, live and dry run: status, reason, value, paid on,
                      refunded, when decided, held until, settled (refunds before their purchase too)
  customer EMAIL      the customer's records, found by the ledger's keyed hash of the email
                      (reads the ledger key secret); the email is shown masked
  held                rewards held for RewardHoldDays, by when they pay, with value net of refunds
  refunded            rewards paid on purchases later refunded, cancelled or disputed, by customer,
                      with totals: what to claw back by hand in Resonance's Partner Portal
  summary FROM TO     rewards decided FROM through TO (YYYY-MM-DD, UTC days): count and value by
                      provider, outcome and reason, live and dry run (DeliveryMode=shadow) apart
-json prints JSON instead of text. Nothing is ever written.
cost: order, customer, refunded and summary scan the whole ledger table, whatever they print: on
demand, half a read unit per 4 KB read at $0.125 per million units, about $0.016 a GB; a record is
250 to 500 bytes, so about $0.01 per million records (each run prints the read units it used).
held reads only the held rewards, through their index.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rewards:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("bad usage")

func run(ctx context.Context, args []string, out, progress io.Writer) error {
	fs := flag.NewFlagSet("rewards", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stack := fs.String("stack", "", "CloudFormation stack name")
	region := fs.String("region", "", "AWS region of the stack (default: your AWS configuration's)")
	table := fs.String("table", "", "the ledger table")
	key := fs.String("key", "", "the ledger key secret (name or ARN; customer)")
	local := fs.Bool("local", false, "the stack `make dev` is running")
	asJSON := fs.Bool("json", false, "JSON instead of text")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	// -json may follow the command too.
	sub := flag.NewFlagSet(cmd, flag.ContinueOnError)
	sub.SetOutput(io.Discard)
	sub.BoolVar(asJSON, "json", *asJSON, "JSON instead of text")
	var params []string
	for len(rest) > 0 {
		if err := sub.Parse(rest); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if sub.NArg() == 0 {
			break
		}
		params, rest = append(params, sub.Arg(0)), sub.Args()[1:]
	}
	want := map[string]int{"order": 1, "customer": 1, "held": 0, "refunded": 0, "summary": 2}
	n, ok := want[cmd]
	if !ok {
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	if len(params) != n {
		return fmt.Errorf("%w: %s takes %d argument(s), got %d", errUsage, cmd, n, len(params))
	}
	var from, to time.Time
	if cmd == "summary" {
		var err error
		if from, to, err = period(params[0], params[1]); err != nil {
			return err
		}
	}
	r, where, err := connect(ctx, *stack, *region, *table, *key, *local)
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(out, "ledger %s (%s)\n", r.Table, where)
	}
	r.Progress = progressTo(progress)
	var rep any
	switch cmd {
	case "order":
		rep, err = r.Order(ctx, params[0])
	case "customer":
		rep, err = r.Customer(ctx, params[0])
	case "held":
		rep, err = r.Held(ctx)
	case "refunded":
		rep, err = r.Refunded(ctx)
	case "summary":
		rep, err = r.Summary(ctx, from, to)
	}
	if err != nil {
		return err
	}
	return rewards.Write(out, rep, *asJSON)
}

// period reads FROM and TO (YYYY-MM-DD, UTC, both included) as
// [from, to + 1 day).
func period(a, b string) (from, to time.Time, err error) {
	from, err = time.Parse(time.DateOnly, a)
	if err != nil {
		return from, to, fmt.Errorf("%w: summary FROM %q is not a date (YYYY-MM-DD)", errUsage, a)
	}
	to, err = time.Parse(time.DateOnly, b)
	if err != nil {
		return from, to, fmt.Errorf("%w: summary TO %q is not a date (YYYY-MM-DD)", errUsage, b)
	}
	if to.Before(from) {
		return from, to, fmt.Errorf("%w: summary TO %s is before FROM %s", errUsage, b, a)
	}
	return from, to.AddDate(0, 0, 1), nil
}

// connect finds the ledger table (and its key secret) and builds the
// reader, as make dlq finds the queues.
func connect(ctx context.Context, stack, region, table, key string, local bool) (*rewards.Reader, string, error) {
	n := 0
	for _, set := range []bool{stack != "", table != "", local} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, "", fmt.Errorf("%w: give one of -stack, -table or -local", errUsage)
	}
	if local {
		o, err := devstack.ReadOutputs(devstack.OutputsFile)
		if err != nil {
			return nil, "", err
		}
		table, key = localLedger(o)
		return reader(dynamodb.NewFromConfig(o.Endpoints.Config(motoserver.DynamoDB)),
			secretsmanager.NewFromConfig(o.Endpoints.Config(motoserver.SecretsManager)), table, key), "local stack at " + o.Endpoints.DynamoDB, nil
	}
	cfg, err := awsstack.Config(ctx, region)
	if err != nil {
		return nil, "", err
	}
	where := "given table"
	if stack != "" {
		where = "stack " + stack
		out, err := awsstack.Outputs(ctx, cfg, stack)
		if err != nil {
			return nil, "", err
		}
		table = out["LedgerTableName"]
		if key == "" {
			key = out["LedgerKeyArn"]
		}
		if table == "" {
			return nil, "", fmt.Errorf("stack %s has no LedgerTableName output: deploy this version of the template first", stack)
		}
	}
	return reader(dynamodb.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg), table, key), where, nil
}

// localLedger names make dev's ledger table and key: as its outputs list
// them, else (an outputs file written before they were listed) as make
// dev names every resource, <prefix>-<logical id>.
func localLedger(o devstack.Outputs) (table, key string) {
	prefix := o.Prefix
	if prefix == "" {
		prefix = "local"
	}
	table, key = o.LedgerTable, o.LedgerKeyArn
	if table == "" {
		table = prefix + "-LedgerTable"
	}
	if key == "" {
		key = prefix + "-LedgerKey"
	}
	return table, key
}

func reader(db *dynamodb.Client, sm *secretsmanager.Client, table, key string) *rewards.Reader {
	r := &rewards.Reader{DB: db, Table: table}
	if key != "" {
		src := secrets.SecretsManager{Client: sm}
		r.Keys = func(ctx context.Context) (*ledger.Keys, error) {
			s, err := src.GetSecretString(ctx, key)
			if err != nil {
				return nil, fmt.Errorf("secret %s: %w", key, err)
			}
			return ledger.ParseKeys(s)
		}
	}
	return r
}

// progressTo prints how many items a long read has come through: at most
// every 2 seconds, from the first 2 seconds on.
func progressTo(w io.Writer) func(int) {
	start, last := time.Now(), time.Now()
	return func(items int) {
		if time.Since(last) < 2*time.Second {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "read %d items in %s\n", items, time.Since(start).Round(time.Second))
	}
}
