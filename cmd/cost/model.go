package main

import (
	"fmt"
	"math"
	"strings"
)

// Prices are AWS's us-east-1 list prices (and the two hosted relays'), as
// of Date; re-check them before relying on the table.
type Prices struct {
	Date           string
	HTTPAPI        float64 // per million requests (first 300 million a month)
	LambdaRequests float64 // per million
	LambdaGBs      float64 // per GB-second, arm64
	SQSRequests    float64 // per million (64 KB chunks)
	DynamoWrites   float64 // per million write request units, on demand, Standard table class
	DynamoReads    float64 // per million read request units (a strongly consistent read of up to 4 KB is one)
	DynamoReadsIA  float64 // the same, Standard-IA
	DynamoGBMonth  float64 // storage, Standard
	DynamoWritesIA float64 // the same, Standard-Infrequent Access table class
	DynamoGBIA     float64 // storage, Standard-IA
	DynamoPITR     float64 // point-in-time recovery, per GB-month of table
	LogsGB         float64 // CloudWatch Logs ingestion
	LogsGBMonth    float64 // CloudWatch Logs storage
	Secret         float64 // Secrets Manager, per secret a month
	SecretCalls    float64 // per 10,000 API calls
	Metric         float64 // CloudWatch custom metric a month
	Alarm          float64 // standard-resolution alarm a month
	Dashboard      float64 // a month (an account's first three are free)
}

// Published are the prices the README's table is computed from.
var Published = Prices{
	Date:           "2026-11-26",
	HTTPAPI:        1.00,
	LambdaRequests: 0.20,
	LambdaGBs:      0.0000133334,
	SQSRequests:    0.40,
	DynamoWrites:   0.625,
	DynamoReads:    0.125,
	DynamoReadsIA:  0.15625,
	DynamoGBMonth:  0.25,
	DynamoWritesIA: 0.78125,
	DynamoGBIA:     0.10,
	DynamoPITR:     0.20,
	LogsGB:         0.50,
	LogsGBMonth:    0.03,
	Secret:         0.40,
	SecretCalls:    0.05,
	Metric:         0.30,
	Alarm:          0.10,
	Dashboard:      3.00,
}

// Inputs are the measured and assumed figures of a deployment.
type Inputs struct {
	// Measured (Measure, cmd/cost -measure): bytes a webhook writes to
	// CloudWatch Logs, on ingest and on the forwarder, with the metrics on,
	// each line counted with CloudWatch's 26 bytes of per-event overhead.
	// The forwarder writes a line per message and, with the metrics on, a
	// metric document per batch and provider.
	IngestLogBytes          float64 `json:"ingestLogBytes"`
	IngestLogBytesNoMetrics float64 `json:"ingestLogBytesNoMetrics"` // METRICS=off
	ForwarderLineBytes      float64 `json:"forwarderLineBytes"`
	ForwarderDocBytes       float64 `json:"forwarderDocBytes"`
	// EnvelopeBytes is the average envelope on the events queue (SQS bills
	// a receive per 64 KB of the batch it returns).
	EnvelopeBytes float64 `json:"envelopeBytes"`
	// Assumed, each stated in the README.
	IngestMs          float64 `json:"ingestMs"`          // one ingest invocation (mostly the SQS call)
	ForwarderBatchMs  float64 `json:"forwarderBatchMs"`  // one forwarder batch: Resonance's latency
	ForwarderPerMsgMs float64 `json:"forwarderPerMsgMs"` // added per message (two DynamoDB writes, shared concurrency)
	MemoryGB          float64 `json:"memoryGB"`
	Pollers           float64 `json:"pollers"`       // the event source's concurrent batches (ForwarderMaxConcurrency)
	WindowSeconds     float64 `json:"windowSeconds"` // ForwarderBatchingWindow
	RecordBytes       float64 `json:"recordBytes"`   // an idempotency record with DynamoDB's overhead
	RetentionDays     float64 `json:"retentionDays"` // IdempotencyRetentionDays
	TableClass        string  `json:"tableClass"`    // IdempotencyTableClass
	PITR              bool    `json:"pitr"`          // point-in-time recovery on the table (off in the template)
	LogRetentionDays  float64 `json:"logRetentionDays"`
	// The ledger (same table class): a strongly consistent read and a
	// write per reward paid at once, its records kept LedgerRetentionDays.
	LedgerRecordBytes   float64 `json:"ledgerRecordBytes"`
	LedgerRetentionDays float64 `json:"ledgerRetentionDays"`
	ReleaserRuns        float64 `json:"releaserRuns"` // the releaser's scheduled runs a month (one a minute)
	ReleaserMs          float64 `json:"releaserMs"`   // one idle run
	// Fixed monthly: what a deployment pays whatever its volume.
	Secrets        float64 `json:"secrets"`        // one per provider, Resonance's, the envelope key
	SecretCalls    float64 `json:"secretCalls"`    // GetSecretValue calls a month (5-minute caches)
	IdleReceives   float64 `json:"idleReceives"`   // the event source's long polls a month
	CustomMetrics  float64 `json:"customMetrics"`  // metric and dimension combinations in use
	Alarms         float64 `json:"alarms"`         // the template's alarm metrics (a metric-math alarm counts each metric)
	Dashboards     float64 `json:"dashboards"`     // the template's dashboard
	ProvidersInUse float64 `json:"providersInUse"` // for the custom metrics
}

const secondsPerMonth = 30.44 * 86400

// Batch is the average forwarder batch at volume webhooks a month: each of
// the pollers fills its batch for WindowSeconds from its share of the
// traffic, up to 10.
func (in Inputs) Batch(volume float64) float64 {
	perPoller := volume / secondsPerMonth / in.Pollers
	return math.Min(10, 1+perPoller*in.WindowSeconds)
}

// ForwarderBytes is the forwarder's log bytes per webhook at volume: its
// line, and its share of the batch's metric documents, one per provider in
// the batch (at most ProvidersInUse).
func (in Inputs) ForwarderBytes(volume float64) float64 {
	b := in.Batch(volume)
	return in.ForwarderLineBytes + in.ForwarderDocBytes*math.Min(b, in.ProvidersInUse)/b
}

// Line is one row of a cost breakdown, per million webhooks.
type Line struct {
	Item    string
	Dollars float64
}

// PerMillion is the cost of a million webhooks at volume a month through
// front ("HttpApi" or "FunctionUrl"), the fixed monthly costs spread over
// the volume.
func PerMillion(p Prices, in Inputs, front string, volume float64) []Line {
	b := in.Batch(volume)
	var lines []Line
	add := func(item string, d float64) { lines = append(lines, Line{item, d}) }
	if front == "HttpApi" {
		add("HTTP API requests", p.HTTPAPI)
	} else {
		add("Function URL requests", 0)
	}
	add("Ingest Lambda requests and duration", p.LambdaRequests+1e6*in.IngestMs/1000*in.MemoryGB*p.LambdaGBs)
	receives := math.Max(1, math.Ceil(b*in.EnvelopeBytes/65536)) // requests a batch's receive is billed as
	add("SQS send, and receive and delete per batch", p.SQSRequests*(1+(receives+1)/b))
	fwdMs := in.ForwarderBatchMs/b + in.ForwarderPerMsgMs
	add("Forwarder Lambda requests and duration", p.LambdaRequests/b+1e6*fwdMs/1000*in.MemoryGB*p.LambdaGBs)
	writes, storage := p.DynamoWrites, p.DynamoGBMonth
	if in.TableClass == "STANDARD_INFREQUENT_ACCESS" {
		writes, storage = p.DynamoWritesIA, p.DynamoGBIA
	}
	add("DynamoDB: claim and completion (2 writes)", 2*writes)
	gb := 1e6 * in.RecordBytes * in.RetentionDays / 30.44 / 1e9 // a steady volume's records, kept the retention
	if in.PITR {
		storage += p.DynamoPITR
	}
	add("DynamoDB storage (a steady volume's records, kept the retention)", gb*storage)
	reads := p.DynamoReads
	if in.TableClass == "STANDARD_INFREQUENT_ACCESS" {
		reads = p.DynamoReadsIA
	}
	ledgerGB := 1e6 * in.LedgerRecordBytes * in.LedgerRetentionDays / 30.44 / 1e9
	add("Ledger: a read and a write per reward, and its records kept", reads+writes+ledgerGB*storage)
	logGB := 1e6 * (in.IngestLogBytes + in.ForwarderBytes(volume)) / 1e9
	add("CloudWatch Logs ingestion and storage", logGB*p.LogsGB+logGB*in.LogRetentionDays/30.44*p.LogsGBMonth)
	add("Fixed monthly costs, spread", Fixed(p, in)/(volume/1e6))
	return lines
}

// Total adds the lines.
func Total(lines []Line) float64 {
	t := 0.0
	for _, l := range lines {
		t += l.Dollars
	}
	return t
}

// Fixed is the fixed monthly cost.
func Fixed(p Prices, in Inputs) float64 {
	return in.Secrets*p.Secret + in.SecretCalls/1e4*p.SecretCalls + in.IdleReceives/1e6*p.SQSRequests +
		in.CustomMetrics*p.Metric + in.Alarms*p.Alarm + in.Dashboards*p.Dashboard + Releaser(p, in)
}

// Releaser is the idle releaser's monthly cost: a run a minute, each a
// short Lambda invocation and one query of an empty index (half a read).
func Releaser(p Prices, in Inputs) float64 {
	return in.ReleaserRuns/1e6*(p.LambdaRequests+1e6*in.ReleaserMs/1000*in.MemoryGB*p.LambdaGBs) + in.ReleaserRuns*0.5/1e6*p.DynamoReads
}

// Volumes are the monthly volumes of the table.
var Volumes = []float64{1e6, 10e6, 100e6}

// Table is the README's cost table: per million webhooks at each volume,
// for each front, line by line, then the totals beside the hosted relays.
func Table(p Prices, in Inputs) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Per million webhooks, us-east-1 list prices of %s, defaults on (`ForwarderBatchingWindow` %gs, metrics on, tracing off), computed by `make cost`:\n\n", p.Date, in.WindowSeconds)
	fmt.Fprintf(&b, "| Item | 1M/month | 10M/month | 100M/month |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| Forwarder batch (average) | %.1f | %.1f | %.1f |\n", in.Batch(Volumes[0]), in.Batch(Volumes[1]), in.Batch(Volumes[2]))
	rows := map[string][]float64{}
	var order []string
	for _, v := range Volumes {
		for _, l := range PerMillion(p, in, "FunctionUrl", v) {
			if _, ok := rows[l.Item]; !ok {
				order = append(order, l.Item)
			}
			rows[l.Item] = append(rows[l.Item], l.Dollars)
		}
	}
	fmt.Fprintf(&b, "| HTTP API requests (`Front=HttpApi` only) | %s | %s | %s |\n", money(p.HTTPAPI), money(p.HTTPAPI), money(p.HTTPAPI))
	for _, item := range order {
		if item == "Function URL requests" {
			continue
		}
		r := rows[item]
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", item, money(r[0]), money(r[1]), money(r[2]))
	}
	for _, front := range []string{"HttpApi", "FunctionUrl"} {
		fmt.Fprintf(&b, "| **Total, `Front=%s`** |", front)
		for _, v := range Volumes {
			fmt.Fprintf(&b, " **%s** |", money(Total(PerMillion(p, in, front, v))))
		}
		b.WriteString("\n")
	}
	b.WriteString("| Hookdeck, Svix (hosted relays, for comparison) | $3.30-$10, ~$100 | $3.30-$10, ~$100 | $3.30-$10, ~$100 |\n")
	fmt.Fprintf(&b, "\nFixed monthly costs, included above: %s (%g secrets %s, their API calls %s, idle polling %s, %g custom metrics %s, %g alarm metrics %s, the dashboard %s, the idle releaser %s). AWS's free tiers are not counted: where the account still has them (Lambda's and SQS's first million requests, 25 GB of DynamoDB Standard storage, 10 metrics, 10 alarms, 3 dashboards, 5 GB of logs), the first million or so costs less.\n",
		money(Fixed(p, in)), in.Secrets, money(in.Secrets*p.Secret), money(in.SecretCalls/1e4*p.SecretCalls),
		money(in.IdleReceives/1e6*p.SQSRequests), in.CustomMetrics, money(in.CustomMetrics*p.Metric),
		in.Alarms, money(in.Alarms*p.Alarm), money(in.Dashboards*p.Dashboard), money(Releaser(p, in)))
	fmt.Fprintf(&b, "Log bytes, measured (`make cost MEASURE=1`): %.0f per webhook on ingest (%.0f with `Metrics=off`); on the forwarder %.0f per message and %.0f per batch metric document, one per provider in a batch: %.0f, %.0f and %.0f per webhook at the three volumes. An envelope on the queue averages %.0f bytes.\n",
		in.IngestLogBytes, in.IngestLogBytesNoMetrics, in.ForwarderLineBytes, in.ForwarderDocBytes,
		in.ForwarderBytes(Volumes[0]), in.ForwarderBytes(Volumes[1]), in.ForwarderBytes(Volumes[2]), in.EnvelopeBytes)
	b.WriteString(goals(p, in))
	return b.String()
}

// goals is the paragraph that sets the totals at 10 million a month
// against the goals, with what stands in the way.
func goals(p Prices, in Inputs) string {
	const v = 10e6
	api, url := Total(PerMillion(p, in, "HttpApi", v)), Total(PerMillion(p, in, "FunctionUrl", v))
	item := func(name string) float64 {
		for _, l := range PerMillion(p, in, "FunctionUrl", v) {
			if strings.HasPrefix(l.Item, name) {
				return l.Dollars
			}
		}
		panic("cost: no line " + name)
	}
	writes, storage, ledgerCost := item("DynamoDB: claim"), item("DynamoDB storage"), item("Ledger")
	sqs, ingest := item("SQS"), item("Ingest Lambda")
	std := Inputs(in)
	std.TableClass = "STANDARD"
	stdWrites := 2 * p.DynamoWrites
	stdStorage := 0.0
	for _, l := range PerMillion(p, std, "FunctionUrl", v) {
		if strings.HasPrefix(l.Item, "DynamoDB storage") {
			stdStorage = l.Dollars
		}
	}
	verdict := func(total, goal float64) string {
		if total <= goal {
			return fmt.Sprintf("%s, met", money(total))
		}
		return fmt.Sprintf("%s, not met by %s", money(total), money(total-goal))
	}
	logSaved := 1 - (in.IngestLogBytesNoMetrics+in.ForwarderLineBytes)/(in.IngestLogBytes+in.ForwarderBytes(v))
	return fmt.Sprintf("\n**Against the goals** at 10 million a month, defaults on: `HttpApi` %s (goal $3.00); `FunctionUrl` %s (goal $2.00). "+
		"What exactly once costs is the largest part, and stays: the claim and the completion are two DynamoDB writes per reward "+
		"(%s on the Standard-IA class, %s on Standard), and the records that make a replay recognisable for %g days are %s a "+
		"month per steady million (%s on Standard). With SQS's send and batch receives (%s) and the ingest Lambda (%s), that "+
		"is %s before the front, the forwarder, the logs and the fixed costs. Cheaper means trading a promise: a shorter "+
		"`IdempotencyRetentionDays` cuts the storage in proportion, but Shopify and Zupy deliveries are dated by the body's "+
		"`created_at`, so an order paid more than the retention less 30 days after it was placed would be parked rather than "+
		"paid; `Metrics=off` saves the custom metrics (%s a month) and %.0f%% of the log bytes. The ledger (every reward's record, "+
		"what makes refunds, holds, rules and `make rewards` possible) adds %s: a read and a write per reward and its records for "+
		"%g days (`LedgerRetentionDays`).\n",
		verdict(api, 3), verdict(url, 2), money(writes), money(stdWrites), in.RetentionDays, money(storage), money(stdStorage),
		money(sqs), money(ingest), money(writes+storage+sqs+ingest), money(in.CustomMetrics*p.Metric), 100*logSaved,
		money(ledgerCost), in.LedgerRetentionDays)
}

func money(d float64) string { return fmt.Sprintf("$%.2f", d) }
