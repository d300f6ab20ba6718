// Package rewards is the operator's view of the ledger (make rewards): one
// order's records, one customer's, what is held and when it pays, the
// rewards paid on purchases later refunded (what to claw back by hand in
// Resonance's Partner Portal), and a summary of a period, live and dry run
// apart.
//
// It only reads: its client has no write method. Every command but held is
// one Scan of the ledger table (no parallel segments, page by page), whose
// cost is the size of the whole table, not of what it prints: on demand,
// a read unit per 4 KB read, half of one for the eventually consistent
// reads used here ($0.125 per million units). held reads the sparse index
// of held rewards and then those rewards only.
//
// It never prints a plain email: the customer is the ledger's keyed hash
// and the masked address the ledger holds, and every other text it prints
// (reward keys included: a signup's key may be the email) is masked too.
package rewards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
)

// Client is the part of the DynamoDB client the tool uses: reads only.
type Client interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Reader reads the ledger table.
type Reader struct {
	DB    Client
	Table string
	// Keys returns the ledger's keys (the ledger key secret): only the
	// customer command needs them, to hash the email it is given.
	Keys func(context.Context) (*ledger.Keys, error)
	// Progress, when set, is told how many items have been read so far,
	// after each page.
	Progress func(items int)
	// Now is the clock (held says how long until each reward pays).
	Now func() time.Time
}

func (r *Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Read is what a command read, and what that cost.
type Read struct {
	Items     int     `json:"items"`      // items DynamoDB read (a Scan: the whole table)
	ReadUnits float64 `json:"read_units"` // as DynamoDB reported them (0 where it does not, e.g. moto)
}

// CostUSD is what the read units cost on demand.
func (r Read) CostUSD() float64 { return r.ReadUnits * 0.125 / 1e6 }

func (r *Read) add(items int32, cc *types.ConsumedCapacity) {
	r.Items += int(items)
	if cc != nil && cc.CapacityUnits != nil {
		r.ReadUnits += *cc.CapacityUnits
	}
}

// Record is one ledger record as the tool shows it.
type Record struct {
	Key       string      `json:"key"`    // the reward key (emails in it masked)
	Mode      string      `json:"mode"`   // live or shadow (a dry run's)
	Status    string      `json:"status"` // "" for reversals whose purchase has not come
	Reason    string      `json:"reason,omitempty"`
	Provider  string      `json:"provider,omitempty"`
	OrderID   string      `json:"order_id,omitempty"`
	EventType string      `json:"event_type,omitempty"`
	Currency  string      `json:"currency,omitempty"`
	Value     json.Number `json:"value,omitempty"`   // the order's value
	Counted   json.Number `json:"counted,omitempty"` // the value the rules let count
	Net       json.Number `json:"net,omitempty"`     // counted (or value) less what went back
	PaidValue json.Number `json:"paid_value,omitempty"`
	Refunded  json.Number `json:"refunded,omitempty"` // what went back (the whole value when voided)
	// RefundCurrency is set when amounts went back in another currency
	// than the purchase's: Refunded is in it, and Net is not known.
	RefundCurrency string      `json:"refund_currency,omitempty"`
	Void           bool        `json:"void,omitempty"`
	VoidReason     string      `json:"void_reason,omitempty"`
	Reversals      int         `json:"reversals,omitempty"`
	Customer       string      `json:"customer,omitempty"` // the ledger's keyed hash
	Email          string      `json:"email,omitempty"`    // masked
	DecidedAt      *time.Time  `json:"decided_at,omitempty"`
	HoldUntil      *time.Time  `json:"hold_until,omitempty"`
	SettledAt      *time.Time  `json:"settled_at,omitempty"`
	ReversedAt     *time.Time  `json:"reversed_at,omitempty"`
	HTTPStatus     int         `json:"http_status,omitempty"`
	RewardAmount   string      `json:"reward_amount,omitempty"` // Resonance's answer (a number when it is one)
	TxHash         string      `json:"tx_hash,omitempty"`
	rewardDecimal  json.Number // RewardAmount as a number, "" if it is not one
}

// AwaitingPurchase reports a record that holds only reversals: a refund
// or cancellation that came before its purchase (applied when it comes).
func (r *Record) AwaitingPurchase() bool { return r.Status == "" }

// Reversed reports whether anything went back on the purchase.
func (r *Record) Reversed() bool { return r.Void || ledger.Positive(r.Refunded) }

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// record turns a ledger entry into what the tool shows.
func record(e *ledger.Entry) Record {
	mode := e.Mode
	if mode == "" {
		mode = ledger.Live
		if strings.HasPrefix(e.PK, ledger.ShadowPrefix) {
			mode = ledger.ShadowMode
		}
	}
	r := Record{
		Key: Mask(strings.TrimPrefix(e.PK, ledger.ShadowPrefix)), Mode: mode, Status: e.Status, Reason: Mask(e.Reason),
		Provider: Mask(e.Provider), OrderID: Mask(e.OrderID), EventType: Mask(e.EventType), Currency: Mask(e.Currency),
		Value: norm(e.Value), Counted: norm(e.Counted), PaidValue: norm(e.PaidValue), Void: e.Void, VoidReason: Mask(e.VoidReason),
		Reversals: e.Reversals, Customer: e.Customer, Email: Mask(e.Email),
		DecidedAt: tp(e.DecidedAt), HoldUntil: tp(e.DueAt), SettledAt: tp(e.SettledAt), ReversedAt: tp(e.ReversedAt),
		HTTPStatus: e.HTTPStatus, RewardAmount: Mask(e.RewardAmount), TxHash: Mask(e.TxHash),
	}
	if e.Value != "" || e.Counted != "" {
		r.Net = e.Net()
	}
	switch {
	case e.Void && e.Value != "":
		r.Refunded = norm(ledger.Max(e.Value, e.Returned()))
	case e.Reversed():
		r.Refunded = norm(e.Returned())
	}
	if e.OtherCurrency() {
		r.RefundCurrency, r.Net = Mask(strings.Join(e.RefundCurrencies, ",")), ""
	}
	if r.rewardDecimal = decimal(e.RewardAmount); r.rewardDecimal != "" {
		r.RewardAmount = string(r.rewardDecimal)
	}
	return r
}

// norm writes an amount as the ledger adds them ("10.50" -> "10.5").
func norm(v json.Number) json.Number {
	if v == "" {
		return ""
	}
	return ledger.Add(v, "0")
}

// decimal reads Resonance's rewardAmount (a JSON number, or a string
// holding one) as a decimal; "" when it is not one.
func decimal(s string) json.Number {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" || strings.ContainsAny(s, "/") {
		return ""
	}
	if _, ok := new(big.Rat).SetString(s); !ok {
		return ""
	}
	return ledger.Add(json.Number(s), "0")
}

// Mask masks every email address in s: any run of characters without a
// space or a separator (: | , ; quotes, brackets) that holds an "@" is
// masked ("ana@example.com" -> "a***@example.com", as the ledger masks).
// It is stricter than a pattern for well-formed addresses on purpose: it
// also masks "ana@localhost" and anything else an email field may hold.
func Mask(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	sep := func(c rune) bool {
		return c <= ' ' || strings.ContainsRune(":|,;\"'<>()[]{}", c)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if sep(rune(s[i])) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && !sep(rune(s[j])) {
			j++
		}
		if w := s[i:j]; strings.Contains(w, "@") {
			b.WriteString(maskWord(w))
		} else {
			b.WriteString(w)
		}
		i = j
	}
	return b.String()
}

// maskWord masks one word holding an "@" as mapping.MaskEmail does, the
// domain kept and the local part cut to its first character; a masked
// word stays as it is, and a local part that starts with "*" or a
// multi-byte character is dropped whole (never half a character).
func maskWord(w string) string {
	at := strings.LastIndexByte(w, '@')
	local, domain := w[:at], w[at:]
	switch {
	case local == "" || local[0] == '*' || local[0] >= 0x80:
		return "***" + domain
	case len(local) == 4 && strings.HasSuffix(local, "***"):
		return w
	}
	return local[:1] + "***" + domain
}

// projection names the attributes the tool reads: never a held reward's
// sealed event, the caps it counts in or the reversals' ids.
var projection = []string{"pk", "status", "mode", "reason", "provider", "order_id", "event_type", "currency", "value", "counted",
	"customer", "email", "decided_at", "hold_until", "refunded", "refunded_total", "refund_currencies", "void", "void_reason", "reversals",
	"reversed_at", "paid_value", "http_status", "reward_amount", "tx_hash", "settled_at"}

func projectionExpr(names map[string]string) *string {
	p := make([]string, len(projection))
	for i, a := range projection {
		names["#"+a] = a
		p[i] = "#" + a
	}
	return aws.String(strings.Join(p, ", "))
}

// capPrefix starts the pk of a cap counter (ledger.CounterPK).
const capPrefix = "cap|"

// scan reads every record that passes filter (a FilterExpression over
// the attributes named #<name>; "" for all), page by page, skipping cap
// counters.
func (r *Reader) scan(ctx context.Context, filter string, vals map[string]types.AttributeValue, read *Read) ([]Record, error) {
	names := map[string]string{}
	proj := projectionExpr(names)
	if vals == nil {
		vals = map[string]types.AttributeValue{}
	}
	vals[":cap"] = &types.AttributeValueMemberS{Value: capPrefix}
	f := "NOT begins_with(#pk, :cap)"
	if filter != "" {
		f += " AND (" + filter + ")"
	}
	var out []Record
	var start map[string]types.AttributeValue
	for {
		page, err := r.DB.Scan(ctx, &dynamodb.ScanInput{
			TableName: aws.String(r.Table), ProjectionExpression: proj, FilterExpression: aws.String(f),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ExclusiveStartKey: start,
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return nil, fmt.Errorf("rewards: scan %s: %w", r.Table, err)
		}
		read.add(page.ScannedCount, page.ConsumedCapacity)
		for _, it := range page.Items {
			if e := ledger.Decode(it); !strings.HasPrefix(e.PK, capPrefix) {
				out = append(out, record(e))
			}
		}
		if r.Progress != nil {
			r.Progress(read.Items)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

func byDecided(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].DecidedAt, rs[j].DecidedAt
		switch {
		case a == nil && b == nil:
			return rs[i].Key < rs[j].Key
		case a == nil || b == nil:
			return b == nil // reversals without their purchase last
		case !a.Equal(*b):
			return a.Before(*b)
		}
		return rs[i].Key < rs[j].Key
	})
}

// Money is an amount per currency ("" when unknown): amounts of different
// currencies are never added together.
type Money map[string]json.Number

func (m Money) add(currency string, v json.Number) {
	if v == "" {
		return
	}
	m[currency] = ledger.Add(m[currency], v)
}

// String is "120.5 EUR + 30 USD", "0" when empty.
func (m Money) String() string {
	if len(m) == 0 {
		return "0"
	}
	cs := make([]string, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	sort.Strings(cs)
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = strings.TrimSpace(string(m[c]) + " " + c)
	}
	return strings.Join(parts, " + ")
}

// OrderReport is every record of one order.
type OrderReport struct {
	OrderID string   `json:"order_id"`
	Records []Record `json:"records"`
	Read    Read     `json:"read"`
}

// Order returns every record, live and dry run, whose order id is id
// (reversals that came before their purchase too).
func (r *Reader) Order(ctx context.Context, id string) (*OrderReport, error) {
	rep := &OrderReport{OrderID: Mask(id)}
	recs, err := r.scan(ctx, "#order_id = :id", map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}}, &rep.Read)
	if err != nil {
		return nil, err
	}
	byDecided(recs)
	rep.Records = orEmpty(recs)
	return rep, nil
}

// CustomerReport is one customer's records and their totals.
type CustomerReport struct {
	Email    string   `json:"email"`    // masked
	Customer string   `json:"customer"` // the keyed hash
	Records  []Record `json:"records"`
	Totals   Totals   `json:"totals"`
	Read     Read     `json:"read"`
}

// Totals add up records.
type Totals struct {
	Count    int         `json:"count"`
	Value    Money       `json:"value"`    // the orders' values
	PaidOn   Money       `json:"paid_on"`  // what rewards were (or, in a dry run, would have been) paid on
	Refunded Money       `json:"refunded"` // what went back on the purchases
	Reversed int         `json:"reversed"` // records with something returned
	Reward   json.Number `json:"reward"`   // Resonance's reward amounts (in its own unit)
	Unparsed int         `json:"unparsed"` // reward amounts that are not numbers (not in Reward)
	Pending  Money       `json:"pending"`  // held: the value each will be paid on (net of refunds)
}

func newTotals() Totals {
	return Totals{Value: Money{}, PaidOn: Money{}, Refunded: Money{}, Reward: "0", Pending: Money{}}
}

func (t *Totals) add(r *Record) {
	t.Count++
	t.Value.add(r.Currency, r.Value)
	if r.Status == ledger.Paid || r.Status == ledger.Shadow {
		t.PaidOn.add(r.Currency, r.PaidValue)
	}
	if r.Reversed() {
		t.Reversed++
		t.Refunded.add(or(r.RefundCurrency, r.Currency), r.Refunded)
	}
	if r.Status == ledger.Held || r.Status == ledger.Releasing {
		t.Pending.add(r.Currency, r.Net)
	}
	switch {
	case r.rewardDecimal != "":
		t.Reward = ledger.Add(t.Reward, r.rewardDecimal)
	case r.RewardAmount != "":
		t.Unparsed++
	}
}

// Customer returns the records of the customer with this email (found by
// the ledger's keyed hash of it), both modes.
func (r *Reader) Customer(ctx context.Context, email string) (*CustomerReport, error) {
	if r.Keys == nil {
		return nil, errors.New("rewards: customer needs the ledger key (the stack's LedgerKeyArn output, or -key)")
	}
	keys, err := r.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("rewards: ledger key: %w", err)
	}
	masked := "***"
	if strings.Contains(email, "@") {
		masked = Mask(strings.TrimSpace(email))
	}
	rep := &CustomerReport{Email: masked, Customer: keys.Customer(email), Totals: newTotals()}
	recs, err := r.scan(ctx, "#customer = :c", map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: rep.Customer}}, &rep.Read)
	if err != nil {
		return nil, err
	}
	byDecided(recs)
	for i := range recs {
		rep.Totals.add(&recs[i])
	}
	rep.Records = orEmpty(recs)
	return rep, nil
}

// HeldReport is what is held, by when it pays.
type HeldReport struct {
	At      time.Time         `json:"at"`
	Records []Record          `json:"records"`
	Totals  map[string]Totals `json:"totals"` // by mode
	Read    Read              `json:"read"`
}

// Held returns the rewards held for their pending window (and those being
// released), sorted by when their window closes, with their value net of
// refunds. It reads the sparse index of held rewards ("due", keys only),
// then those rewards: its cost is the number held, not the table's size.
func (r *Reader) Held(ctx context.Context) (*HeldReport, error) {
	rep := &HeldReport{At: r.now().UTC(), Totals: map[string]Totals{}}
	var pks []string
	var start map[string]types.AttributeValue
	for {
		q, err := r.DB.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(r.Table), IndexName: aws.String(ledger.DueIndex),
			KeyConditionExpression:    aws.String("due_part = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "due"}},
			ExclusiveStartKey:         start, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return nil, fmt.Errorf("rewards: held rewards (index %s of %s): %w", ledger.DueIndex, r.Table, err)
		}
		rep.Read.add(q.ScannedCount, q.ConsumedCapacity)
		for _, it := range q.Items {
			if v, ok := it["pk"].(*types.AttributeValueMemberS); ok {
				pks = append(pks, v.Value)
			}
		}
		if len(q.LastEvaluatedKey) == 0 {
			break
		}
		start = q.LastEvaluatedKey
	}
	slices.Sort(pks)
	pks = slices.Compact(pks)
	items, err := r.batchGet(ctx, pks, &rep.Read)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		e := ledger.Decode(it)
		if e.Status != ledger.Held && e.Status != ledger.Releasing { // settled since the index was read
			continue
		}
		rec := record(e)
		rep.Records = append(rep.Records, rec)
	}
	sort.SliceStable(rep.Records, func(i, j int) bool {
		a, b := rep.Records[i], rep.Records[j]
		if a.HoldUntil != nil && b.HoldUntil != nil && !a.HoldUntil.Equal(*b.HoldUntil) {
			return a.HoldUntil.Before(*b.HoldUntil)
		}
		return a.Key < b.Key
	})
	for i := range rep.Records {
		rec := &rep.Records[i]
		t, ok := rep.Totals[rec.Mode]
		if !ok {
			t = newTotals()
		}
		t.add(rec)
		rep.Totals[rec.Mode] = t
	}
	rep.Records = orEmpty(rep.Records)
	return rep, nil
}

// batchGet reads the items of pks (eventually consistent), 100 a request,
// asking again for what DynamoDB left unprocessed.
func (r *Reader) batchGet(ctx context.Context, pks []string, read *Read) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for len(pks) > 0 {
		n := min(len(pks), 100)
		keys := make([]map[string]types.AttributeValue, n)
		for i, pk := range pks[:n] {
			keys[i] = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
		}
		pks = pks[n:]
		names := map[string]string{}
		req := map[string]types.KeysAndAttributes{r.Table: {Keys: keys, ProjectionExpression: projectionExpr(names), ExpressionAttributeNames: names}}
		for wait := 50 * time.Millisecond; len(req) > 0; wait = min(2*wait, 5*time.Second) {
			got, err := r.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			if err != nil {
				return out, fmt.Errorf("rewards: read held rewards from %s: %w", r.Table, err)
			}
			items := got.Responses[r.Table]
			out = append(out, items...)
			read.Items += len(items)
			for i := range got.ConsumedCapacity {
				read.add(0, &got.ConsumedCapacity[i])
			}
			req = got.UnprocessedKeys
			if len(req) > 0 {
				select {
				case <-ctx.Done():
					return out, ctx.Err()
				case <-time.After(wait):
				}
			}
		}
		if r.Progress != nil {
			r.Progress(read.Items)
		}
	}
	return out, nil
}

// RefundedReport is the rewards paid on purchases later refunded,
// cancelled or disputed, by customer: what to claw back by hand.
type RefundedReport struct {
	Customers []RefundedCustomer `json:"customers"`
	Totals    Totals             `json:"totals"`
	Read      Read               `json:"read"`
}

// RefundedCustomer is one customer's paid-then-refunded rewards.
type RefundedCustomer struct {
	Customer string   `json:"customer"` // the keyed hash
	Email    string   `json:"email"`    // masked
	Records  []Record `json:"records"`
	Totals   Totals   `json:"totals"`
}

// Refunded returns the rewards Resonance paid whose purchase was later
// refunded (in part or in full), cancelled or disputed, grouped by
// customer, the customers with the most reward to claw back first.
func (r *Reader) Refunded(ctx context.Context) (*RefundedReport, error) {
	rep := &RefundedReport{Totals: newTotals()}
	recs, err := r.scan(ctx, "#status = :paid AND (#void = :true OR #refunded > :zero OR #refunded_total > :zero)",
		map[string]types.AttributeValue{":paid": &types.AttributeValueMemberS{Value: ledger.Paid},
			":true": &types.AttributeValueMemberBOOL{Value: true}, ":zero": &types.AttributeValueMemberN{Value: "0"}}, &rep.Read)
	if err != nil {
		return nil, err
	}
	byDecided(recs)
	at := map[string]int{}
	for i := range recs {
		rec := &recs[i]
		if rec.Status != ledger.Paid || !rec.Reversed() {
			continue
		}
		k, ok := at[rec.Customer]
		if !ok {
			k = len(rep.Customers)
			at[rec.Customer] = k
			rep.Customers = append(rep.Customers, RefundedCustomer{Customer: rec.Customer, Email: rec.Email, Totals: newTotals()})
		}
		c := &rep.Customers[k]
		if c.Email == "" {
			c.Email = rec.Email
		}
		c.Records = append(c.Records, *rec)
		c.Totals.add(rec)
		rep.Totals.add(rec)
	}
	sort.SliceStable(rep.Customers, func(i, j int) bool {
		a, b := rep.Customers[i].Totals.Reward, rep.Customers[j].Totals.Reward
		if c := ledger.Cmp(a, b); c != 0 {
			return c > 0
		}
		return rep.Customers[i].Customer < rep.Customers[j].Customer
	})
	if rep.Customers == nil {
		rep.Customers = []RefundedCustomer{}
	}
	return rep, nil
}

// SummaryReport counts a period's records, live and dry run apart.
type SummaryReport struct {
	From  time.Time               `json:"from"`
	To    time.Time               `json:"to"` // exclusive
	Modes map[string]*ModeSummary `json:"modes"`
	Read  Read                    `json:"read"`
}

// ModeSummary is one mode's counts.
type ModeSummary struct {
	Totals     Totals            `json:"totals"`
	ByProvider map[string]Totals `json:"by_provider"`
	ByStatus   map[string]Totals `json:"by_status"`
	ByReason   map[string]Totals `json:"by_reason"`
	// AwaitingPurchase counts the reversals received in the period whose
	// purchase has not come (by when they were received).
	AwaitingPurchase Totals `json:"awaiting_purchase"`
}

// Summary counts the records decided in [from, to) by provider, status
// and reason, and the reversals received then whose purchase has not come.
func (r *Reader) Summary(ctx context.Context, from, to time.Time) (*SummaryReport, error) {
	rep := &SummaryReport{From: from.UTC(), To: to.UTC(), Modes: map[string]*ModeSummary{}}
	ms := func(t time.Time) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: fmt.Sprint(t.UnixMilli())}
	}
	recs, err := r.scan(ctx, "(#decided_at >= :from AND #decided_at < :to) OR (attribute_not_exists(#status) AND #reversed_at >= :from AND #reversed_at < :to)",
		map[string]types.AttributeValue{":from": ms(from), ":to": ms(to)}, &rep.Read)
	if err != nil {
		return nil, err
	}
	for _, mode := range []string{ledger.Live, ledger.ShadowMode} {
		rep.Modes[mode] = &ModeSummary{Totals: newTotals(), ByProvider: map[string]Totals{}, ByStatus: map[string]Totals{},
			ByReason: map[string]Totals{}, AwaitingPurchase: newTotals()}
	}
	group := func(m map[string]Totals, k string, rec *Record) {
		t, ok := m[k]
		if !ok {
			t = newTotals()
		}
		t.add(rec)
		m[k] = t
	}
	for i := range recs {
		rec := &recs[i]
		s := rep.Modes[rec.Mode]
		if s == nil {
			continue // a mode this build does not know
		}
		if rec.AwaitingPurchase() {
			s.AwaitingPurchase.add(rec)
			continue
		}
		s.Totals.add(rec)
		group(s.ByProvider, rec.Provider, rec)
		group(s.ByStatus, rec.Status, rec)
		if rec.Reason != "" {
			group(s.ByReason, rec.Reason, rec)
		}
	}
	return rep, nil
}

func orEmpty(rs []Record) []Record {
	if rs == nil {
		return []Record{}
	}
	return rs
}
