// Command dlq reviews and replays the relay's dead-letter queue (make dlq).
//
//	dlq [where] list                          counts by reason and provider
//	dlq [where] show ID                       one message decoded, emails masked
//	dlq [where] replay [-resign] ID... | -reason R | -all
//	                                          back to the events queue, then off the DLQ
//	dlq [where] redrive                       everything back (SQS message-move task)
//	dlq [where] delete ID... | -reason R | -all  -yes
//	dlq [where] resolve -as paid|resend ID... | -reason outcome_unknown | -all
//	                                          settle rewards of unknown outcome
//
// where is one of:
//
//	-stack NAME [-region R]                   a deployed stack (queues from its outputs)
//	-dlq-url URL -events-url URL              explicit queues
//	-local                                    the stack `make dev` is running
//	-table NAME                               the idempotency table (resolve; a
//	                                          stack's or make dev's is found)
//
// Replaying is safe to repeat: a webhook already rewarded is acknowledged as
// a duplicate and not paid again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awsstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/dlq"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

const usage = `usage: make dlq ARGS="[-stack NAME [-region R] | -dlq-url URL -events-url URL | -local] COMMAND"
commands:
  list                                counts by reason and provider
  show ID                             one message decoded, emails masked
  replay ID... | -reason R | -all     back to the events queue, then off the DLQ, as they are
  replay -resign ID...                re-signed with the relay's envelope key in your name
                                      (for messages you checked that no longer verify:
                                      signed with a retired key, or changed on purpose)
  redrive                             everything back to the events queue
  delete ID... | -reason R | -all     for good (add -yes; without it, says what it would delete)
  resolve -as paid|resend ID... | -reason outcome_unknown | -all
                                      settle rewards parked as outcome_unknown: paid records
                                      the reward as paid and sends nothing (you checked that
                                      Resonance paid it); resend sends it once more with the
                                      same Idempotency-Key
replay, redrive and resolve -as resend put messages on the events queue: your IAM role or
user must be in the stack's QueueOperatorArns parameter
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dlq:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("bad usage")

func run(ctx context.Context, args []string, out io.Writer) error {
	return explainDenied(runCommand(ctx, args, out))
}

// sendDenied is an error of a command whose SendMessage to the events queue
// SQS refused: the queue's policy lets only the relay's functions and the
// stack's QueueOperatorArns put messages on it (README, Security).
type sendDenied struct {
	err    error
	answer string // SQS's message, which names the refused identity
}

func (e *sendDenied) Error() string {
	return "SQS refused to let you put messages on the events queue (AccessDenied): " + e.answer + "\n" +
		"Only the relay's functions and the IAM roles or users in the stack's QueueOperatorArns parameter may send to it.\n" +
		"Add the ARN you run this as to QueueOperatorArns (sam deploy --guided, or parameter_overrides in samconfig.toml),\n" +
		"deploy, then run the same command again: what was not replayed is still in the dead-letter queue.\n" +
		"Your ARN: aws sts get-caller-identity; for an assumed role (SSO too) give the role's ARN,\n" +
		"arn:aws:iam::ACCOUNT:role/PATH/NAME, not the assumed-role session's."
}

func (e *sendDenied) Unwrap() error { return e.err }

// explainDenied turns an AccessDenied answer to SendMessage into sendDenied.
func explainDenied(err error) error {
	var op *smithy.OperationError
	var api smithy.APIError
	if errors.As(err, &op) && op.Operation() == "SendMessage" && errors.As(err, &api) && strings.Contains(api.ErrorCode(), "AccessDenied") {
		return &sendDenied{err: err, answer: api.ErrorMessage()}
	}
	return err
}

func runCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("dlq", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stack := fs.String("stack", "", "CloudFormation stack name")
	region := fs.String("region", "", "AWS region of the stack (default: your AWS configuration's)")
	dlqURL := fs.String("dlq-url", "", "dead-letter queue URL")
	eventsURL := fs.String("events-url", "", "events queue URL")
	local := fs.Bool("local", false, "the stack `make dev` is running")
	table := fs.String("table", "", "the idempotency table (resolve)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	tool, where, err := connect(ctx, *stack, *region, *dlqURL, *eventsURL, *table, *local)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "dead-letter queue %s (%s)\n", tool.DLQ, where)
	tool.Progress = progress(os.Stderr, fs.Arg(0))
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "list":
		return list(ctx, tool, out)
	case "show":
		if len(rest) != 1 {
			return fmt.Errorf("%w: show takes one message id", errUsage)
		}
		return show(ctx, tool, rest[0], out)
	case "replay", "delete", "resolve":
		return act(ctx, tool, cmd, rest, out)
	case "redrive":
		res, err := tool.Redrive(ctx)
		if err != nil {
			return err
		}
		if res.TaskHandle != "" {
			fmt.Fprintf(out, "SQS message-move task started (%s); the DLQ empties at up to 500 messages a second: run list to follow\n", res.TaskHandle)
			return nil
		}
		fmt.Fprintf(out, "message-move task not used (%v);\nmoved %d messages to the events queue one by one instead\n", short(res.Fallback), res.Moved)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// connect finds the queues and builds the tool.
func connect(ctx context.Context, stack, region, dlqURL, eventsURL, table string, local bool) (*dlq.Tool, string, error) {
	n := 0
	for _, set := range []bool{stack != "", dlqURL != "" || eventsURL != "", local} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, "", fmt.Errorf("%w: give one of -stack, -dlq-url with -events-url, or -local", errUsage)
	}
	if local {
		o, err := devstack.ReadOutputs(devstack.OutputsFile)
		if err != nil {
			return nil, "", err
		}
		client := sqs.NewFromConfig(o.Endpoints.Config(motoserver.SQS))
		if table == "" {
			table = o.IdempotencyTable
		}
		t := &dlq.Tool{SQS: client, DLQ: o.DeadLetterQueueURL, Events: o.EventsQueueURL}
		if table != "" {
			t.Rewards = &idempotency.DynamoDB{Client: dynamodb.NewFromConfig(o.Endpoints.Config(motoserver.DynamoDB)), Table: table}
		}
		if o.EnvelopeKeyArn != "" {
			t.Keys = envelopeKeys(secretsmanager.NewFromConfig(o.Endpoints.Config(motoserver.SecretsManager)), o.EnvelopeKeyArn)
		}
		return t, "local stack at " + o.Endpoints.SQS, nil
	}
	cfg, err := awsstack.Config(ctx, region)
	if err != nil {
		return nil, "", err
	}
	where := "given URLs"
	keyArn := ""
	if stack != "" {
		where = "stack " + stack
		out, err := awsstack.Outputs(ctx, cfg, stack)
		if err != nil {
			return nil, "", err
		}
		dlqURL, eventsURL, keyArn = out["DeadLetterQueueUrl"], out["EventsQueueUrl"], out["EnvelopeKeyArn"]
		if table == "" {
			table = out["IdempotencyTableName"]
		}
	}
	if dlqURL == "" || eventsURL == "" {
		return nil, "", fmt.Errorf("%w: need both queues (the stack's outputs DeadLetterQueueUrl and EventsQueueUrl, or -dlq-url and -events-url)", errUsage)
	}
	t := &dlq.Tool{SQS: sqs.NewFromConfig(cfg), DLQ: dlqURL, Events: eventsURL}
	if table != "" {
		t.Rewards = &idempotency.DynamoDB{Client: dynamodb.NewFromConfig(cfg), Table: table}
	}
	if keyArn != "" {
		t.Keys = envelopeKeys(secretsmanager.NewFromConfig(cfg), keyArn)
	}
	return t, where, nil
}

func list(ctx context.Context, t *dlq.Tool, out io.Writer) error {
	msgs, err := t.Read(ctx, 0)
	defer func() { _ = t.Release(context.WithoutCancel(ctx), msgs) }()
	if err != nil {
		return err
	}
	_, inFlight, _ := t.Depth(ctx)
	fmt.Fprintf(out, "%d messages", len(msgs))
	if inFlight > len(msgs) {
		fmt.Fprintf(out, " (and about %d held by another reader, not shown)", inFlight-len(msgs))
	}
	fmt.Fprintln(out)
	if len(msgs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\tREASON\tPROVIDER\tOLDEST\tNEWEST\tFIRST ID")
	for _, g := range dlq.Groups(msgs) {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", g.Count, g.Reason, g.Provider, age(g.Oldest), age(g.Newest), g.IDs[0])
	}
	return tw.Flush()
}

func show(ctx context.Context, t *dlq.Tool, id string, out io.Writer) error {
	msgs, err := t.Read(ctx, 0)
	defer func() { _ = t.Release(context.WithoutCancel(ctx), msgs) }()
	if err != nil {
		return err
	}
	chosen, _ := dlq.Select(msgs, []string{id}, "", false)
	if len(chosen) == 0 {
		return fmt.Errorf("%s: %w", id, dlq.ErrNotFound)
	}
	t.CheckSignature(ctx, &chosen[0])
	dlq.Show(out, chosen[0])
	return nil
}

func act(ctx context.Context, t *dlq.Tool, cmd string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	reason := fs.String("reason", "", "every message of this reason")
	all := fs.Bool("all", false, "every message")
	yes := fs.Bool("yes", false, "really delete")
	as := fs.String("as", "", "resolve: paid or resend")
	resign := fs.Bool("resign", false, "replay: re-sign with the envelope key in your name")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ids := fs.Args()
	how := idempotency.Resolution(*as)
	if cmd == "resolve" && how != idempotency.ResolvedPaid && how != idempotency.ResolvedResend {
		return fmt.Errorf("%w: resolve needs -as paid (you checked that Resonance paid it) or -as resend (send it once more with the same Idempotency-Key)", errUsage)
	}
	if *resign && (*reason != "" || *all) {
		return fmt.Errorf("%w: replay -resign vouches for each message in your name: give their ids (read each with show first), not -reason or -all", errUsage)
	}
	if len(ids) == 0 && *reason == "" && !*all {
		return fmt.Errorf("%w: %s needs message ids, -reason or -all", errUsage, cmd)
	}
	msgs, err := t.Read(ctx, 0)
	if err != nil {
		_ = t.Release(context.WithoutCancel(ctx), msgs)
		return err
	}
	chosen, rest := dlq.Select(msgs, ids, *reason, *all)
	_ = t.Release(context.WithoutCancel(ctx), rest)
	if len(chosen) == 0 {
		return fmt.Errorf("nothing matched: %w", dlq.ErrNotFound)
	}
	var n int
	switch {
	case cmd == "resolve":
		res, err := t.Resolve(ctx, chosen, how, operator())
		for _, r := range res {
			fmt.Fprintf(out, "%s: %s (%d message(s))\n", r.Key, r.Outcome, len(r.IDs))
		}
		if err != nil {
			_ = t.Release(context.WithoutCancel(ctx), chosen)
		}
		return err
	case cmd == "replay" && *resign:
		by := operator()
		n, err = t.ReplayResigned(ctx, chosen, by)
		fmt.Fprintf(out, "re-signed as %s and replayed %d of %d to the events queue\n", by, n, len(chosen))
	case cmd == "replay":
		n, err = t.Replay(ctx, chosen)
		fmt.Fprintf(out, "replayed %d of %d to the events queue\n", n, len(chosen))
	case !*yes:
		_ = t.Release(context.WithoutCancel(ctx), chosen)
		for _, m := range chosen {
			fmt.Fprintf(out, "would delete %s (%s, %s)\n", m.ID, m.Reason(), m.Provider())
		}
		fmt.Fprintln(out, "nothing deleted: add -yes to delete them")
		return nil
	default:
		n, err = t.Delete(ctx, chosen)
		fmt.Fprintf(out, "deleted %d of %d\n", n, len(chosen))
	}
	if err != nil {
		_ = t.Release(context.WithoutCancel(ctx), chosen[n:])
	}
	return err
}

// envelopeKeys reads the relay's envelope key secret.
func envelopeKeys(c *secretsmanager.Client, arn string) envelope.KeySource {
	return &secrets.Cache[[][]byte]{Fetcher: secrets.SecretsManager{Client: c}, ID: arn, Parse: envelope.ParseKeys}
}

// operator names who resolved, for the record: $USER@host.
func operator() string {
	host, _ := os.Hostname()
	return os.Getenv("USER") + "@" + host
}

// progress prints how far a long replay, delete or redrive has come: at
// most once a second, and when it ends.
func progress(w io.Writer, verb string) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if total < 20 || (done < total && time.Since(last) < time.Second) {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "%s: %d of %d\n", verb, done, total)
	}
}

func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}

// short keeps an SDK error to its first line.
func short(err error) string {
	s := fmt.Sprint(err)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
