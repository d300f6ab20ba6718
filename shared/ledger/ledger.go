// Package ledger is the relay's record of every reward it decides on, and
// the state that lets a reward follow the money: a purchase held for a
// pending window (RewardHoldDays) and paid when it closes, a refund or
// cancellation that voids or reduces it while it waits, one that arrives
// after it was paid (recorded, for the merchant to claw back by hand:
// Resonance documents no way to reverse a reward), and the counters of the
// reward rules' caps.
//
// One DynamoDB item per reward key (its "pk"; a dry run's records are
// "shadow|<key>", apart from the live ones) holds the decision and every
// reversal of that purchase, whichever arrives first: events are not
// ordered, and a refund that comes before its purchase still applies when
// the purchase comes. A decision moves through these states:
//
//	(none) --Decide--> held --BeginRelease--> releasing --> paid | parked | unknown | shadow
//	                     '--a full reversal---> voided        '--> voided (reversed meanwhile)
//	(none) --Decide--> paid | skipped | voided | shadow   (no pending window)
//
// The ledger never decides whether Resonance is called twice: the
// idempotency table does (a release goes through the same claim, call and
// settle). It holds no plain email: the customer is a keyed hash and a
// masked address, and a held reward's event (which Resonance needs with the
// email) is sealed with a key only the relay reads, and deleted when the
// reward is paid or voided.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Statuses of a decision.
const (
	Held      = "held"      // waiting for its pending window to close
	Releasing = "releasing" // its window closed; being paid
	Paid      = "paid"      // Resonance paid it
	Voided    = "voided"    // reversed in full before it was paid
	Skipped   = "skipped"   // a reward rule stopped it (Reason: rule_<name>)
	Shadow    = "shadow"    // a dry run: would have been paid
	Parked    = "parked"    // Resonance refused it; in the dead-letter queue
	Unknown   = "unknown"   // may have been paid; in the dead-letter queue
)

// Modes.
const (
	Live       = "live"
	ShadowMode = "shadow"
)

// ShadowPrefix starts the pk of a dry run's record.
const ShadowPrefix = "shadow|"

// PK is the record's key for a reward key in a mode.
func PK(mode, key string) string {
	if mode == ShadowMode {
		return ShadowPrefix + key
	}
	return key
}

// DefaultRetention is how long a record is kept after its last change:
// longer than a card dispute can come (120 days) and most return windows,
// at about half the storage of the idempotency table's 400 days. A refund
// that comes later still voids nothing paid, and is recorded on its own.
const DefaultRetention = 180 * 24 * time.Hour

// duePart is the partition of the sparse index of held rewards ("due").
const duePart = "due"

// DueIndex is the name of the index of held rewards by when they are due.
const DueIndex = "due"

// Entry is one record.
type Entry struct {
	PK        string
	Mode      string
	Status    string
	Reason    string // why skipped, voided, parked
	Provider  string
	OrderID   string
	EventType string
	Currency  string
	Value     json.Number // the order's value as mapped
	Counted   json.Number // the value the rules let count (maxOrderValue)
	Customer  string      // keyed hash of the email
	Email     string      // masked
	DecidedAt time.Time
	DueAt     time.Time // held: when its window closes (hold_until)
	Sealed    []byte    // held: the event, sealed (Keys.Seal)
	Caps      []string  // the cap counters it holds a place in
	// Reversals.
	Refunded      json.Number // sum of partial reversals, each counted once
	RefundedTotal json.Number // largest running total reported (Stripe)
	// RefundCurrencies are the currencies the partial reversals named.
	RefundCurrencies []string
	Void             bool // reversed in full
	VoidReason       string
	Reversals        int
	ReversedAt       time.Time
	// Was is, from BeginRelease, the status the record was released from.
	Was string
	// Outcome.
	PaidValue    json.Number // the order_value it was paid on
	HTTPStatus   int
	RewardAmount string
	TxHash       string
	SettledAt    time.Time
}

// Returned is what went back on the purchase: the larger of the partial
// reversals' sum and the largest running total.
func (e *Entry) Returned() json.Number { return Max(orZero(e.Refunded), orZero(e.RefundedTotal)) }

// Net is the value left to reward: Counted (or Value) less what went
// back, and "0" when it was reversed in full.
func (e *Entry) Net() json.Number {
	if e.Void {
		return "0"
	}
	var n json.Number
	switch {
	case e.Value == "":
		n = Sub(orZero(e.Counted), e.Returned())
	default:
		// What went back comes off what was paid for; what is left counts
		// up to the rules' maximum order value (Counted).
		n = Sub(e.Value, e.Returned())
		if e.Counted != "" && Cmp(e.Counted, n) < 0 {
			n = e.Counted
		}
	}
	if !Positive(n) {
		return "0"
	}
	return n
}

// Voided reports whether the purchase went back in full: cancelled,
// disputed, refunded in full, or refunded at least what it was worth. A
// purchase whose value is not known is voided only by a full reversal; a
// free one (value 0) only by a reversal.
func (e *Entry) Voided() bool {
	if e.Void {
		return true
	}
	if e.OtherCurrency() {
		return false // what went back cannot be compared with the value
	}
	r := e.Returned()
	return e.Value != "" && Positive(r) && Cmp(r, e.Value) >= 0
}

// OtherCurrency reports whether an amount went back in another currency
// than the purchase's (Shopify refunds in the customer's currency an order
// priced in the shop's): it cannot be taken off the purchase's value, and
// Net is then not what is left.
func (e *Entry) OtherCurrency() bool {
	if e.Currency == "" {
		return false
	}
	for _, c := range e.RefundCurrencies {
		if !strings.EqualFold(c, e.Currency) { // a custom sender may write "eur"
			return true
		}
	}
	return false
}

// Reversed reports whether anything went back on the purchase.
func (e *Entry) Reversed() bool { return e.Void || Positive(e.Returned()) }

func orZero(v json.Number) json.Number {
	if v == "" {
		return "0"
	}
	return v
}

// ErrDecided is returned by Decide when the record already has a
// decision (the entry returned says which).
var ErrDecided = errors.New("ledger: reward already decided")

// ErrNotInState is returned by Settle and BeginRelease when the record is
// not in a state the change may start from (the entry returned says which).
var ErrNotInState = errors.New("ledger: record not in the expected state")

// DynamoDB is the ledger on a table whose partition key is "pk" (string),
// whose TTL attribute is "expiration", and whose sparse index DueIndex has
// the partition key "due_part" (string) and the sort key "due_at" (number).
type DynamoDB struct {
	Client interface {
		UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
		GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
		Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	}
	Table     string
	Retention time.Duration
	Now       func() time.Time
}

func (d *DynamoDB) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *DynamoDB) expiration() types.AttributeValue { return d.expirationAfter(d.now()) }

// expirationAfter is when a record whose last change is at t expires.
func (d *DynamoDB) expirationAfter(t time.Time) types.AttributeValue {
	r := d.Retention
	if r <= 0 {
		r = DefaultRetention
	}
	return num(t.Add(r).Unix())
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func dec(v json.Number) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: string(orZero(v))}
}
func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk)}
}

// update builds an UpdateItem's SET and REMOVE clauses.
type update struct {
	set    []string
	remove []string
	names  map[string]string
	vals   map[string]types.AttributeValue
}

func newUpdate() *update {
	return &update{names: map[string]string{}, vals: map[string]types.AttributeValue{}}
}

func (u *update) put(attr string, v types.AttributeValue) {
	n := "#" + attr
	u.names[n] = attr
	u.vals[":"+attr] = v
	u.set = append(u.set, n+" = :"+attr)
}

func (u *update) putStr(attr, v string) {
	if v != "" {
		u.put(attr, str(v))
	}
}

func (u *update) drop(attrs ...string) {
	for _, a := range attrs {
		u.names["#"+a] = a
		u.remove = append(u.remove, "#"+a)
	}
}

func (u *update) expr() string {
	s := ""
	if len(u.set) > 0 {
		s = "SET " + strings.Join(u.set, ", ")
	}
	if len(u.remove) > 0 {
		s += " REMOVE " + strings.Join(u.remove, ", ")
	}
	return s
}

// statusIn is a condition that the record's status is one of from ("" is
// no status: no record, or one that holds reversals only).
func (u *update) statusIn(from []string) string {
	u.names["#status"] = "status"
	var or []string
	for i, s := range from {
		if s == "" {
			or = append(or, "attribute_not_exists(#status)")
			continue
		}
		p := ":from" + strconv.Itoa(i)
		u.vals[p] = str(s)
		or = append(or, "#status = "+p)
	}
	return strings.Join(or, " OR ")
}

// decision writes e's decision fields.
func (d *DynamoDB) decision(u *update, e *Entry) {
	u.put("status", str(e.Status))
	u.putStr("mode", e.Mode)
	u.putStr("reason", e.Reason)
	u.putStr("provider", e.Provider)
	u.putStr("order_id", e.OrderID)
	u.putStr("event_type", e.EventType)
	u.putStr("currency", e.Currency)
	if e.Value != "" {
		u.put("value", dec(e.Value))
	}
	if e.Counted != "" {
		u.put("counted", dec(e.Counted))
	}
	u.putStr("customer", e.Customer)
	u.putStr("email", e.Email)
	at := e.DecidedAt
	if at.IsZero() {
		at = d.now()
	}
	u.put("decided_at", num(at.UnixMilli()))
	if e.Status == Held {
		u.put("due_part", str(duePart))
		u.put("due_at", num(e.DueAt.UnixMilli()))     // when the releaser next queues it (Lease moves it)
		u.put("hold_until", num(e.DueAt.UnixMilli())) // when its window closes (never moves)
		if len(e.Sealed) > 0 {
			u.put("sealed", &types.AttributeValueMemberB{Value: e.Sealed})
		}
	}
	if len(e.Caps) > 0 {
		u.put("caps", &types.AttributeValueMemberSS{Value: e.Caps})
	}
	if e.Status == Held && e.DueAt.After(d.now()) {
		// Kept the retention after its window closes, not after it was
		// decided: a window longer than the retention must not let the
		// table's TTL delete a reward still to be paid.
		u.put("expiration", d.expirationAfter(e.DueAt))
	} else {
		u.put("expiration", d.expiration())
	}
}

// Decide records a new decision: only if the record has none yet (it may
// hold reversals that arrived before the purchase, and returns with them).
// A record with a decision is left as it is and returned with ErrDecided.
func (d *DynamoDB) Decide(ctx context.Context, e Entry) (*Entry, error) {
	u := newUpdate()
	d.decision(u, &e)
	cond := u.statusIn([]string{""})
	return d.conditional(ctx, e.PK, u, cond, ErrDecided)
}

func (d *DynamoDB) conditional(ctx context.Context, pk string, u *update, cond string, refused error) (*Entry, error) {
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(d.Table), Key: key(pk),
		UpdateExpression: aws.String(u.expr()), ExpressionAttributeNames: u.names,
		ExpressionAttributeValues: u.vals, ReturnValues: types.ReturnValueAllNew,
	}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	if len(in.ExpressionAttributeValues) == 0 {
		in.ExpressionAttributeValues = nil
	}
	out, err := d.Client.UpdateItem(ctx, in)
	if err == nil {
		return decode(pk, out.Attributes), nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return decode(pk, ccf.Item), refused
	}
	return nil, fmt.Errorf("ledger: update %s: %w", clip(pk), err)
}

// Settlement is a decision's next state.
type Settlement struct {
	Status       string
	Reason       string
	PaidValue    json.Number
	HTTPStatus   int
	RewardAmount string
	TxHash       string
	// Decision, when set, is written too (a reward decided and paid at
	// once records its decision with its outcome, in one write).
	Decision *Entry
}

// Settle moves the record to s.Status if its status is one of from (nil:
// whatever it is). Leaving held, it leaves the index of held rewards; its
// sealed event is deleted unless it is parked or of unknown outcome (a
// release an operator may replay).
func (d *DynamoDB) Settle(ctx context.Context, pk string, s Settlement, from []string) (*Entry, error) {
	u := newUpdate()
	if s.Decision != nil {
		e := *s.Decision
		e.Status = s.Status
		d.decision(u, &e)
	} else {
		u.put("status", str(s.Status))
		u.put("expiration", d.expiration())
	}
	switch {
	case s.Reason != "" && (s.Decision == nil || s.Decision.Reason == ""):
		u.put("reason", str(s.Reason))
	case s.Reason == "" && (s.Decision == nil || s.Decision.Reason == ""):
		u.drop("reason") // a parked reward paid on its replay is paid, for no reason
	}
	if s.PaidValue != "" {
		u.put("paid_value", dec(s.PaidValue))
	}
	if s.HTTPStatus != 0 {
		u.put("http_status", num(int64(s.HTTPStatus)))
	}
	u.putStr("reward_amount", s.RewardAmount)
	u.putStr("tx_hash", s.TxHash)
	u.put("settled_at", num(d.now().UnixMilli()))
	switch s.Status {
	case Held, Releasing:
	case Parked, Unknown:
		// Out of the releaser's index, into an operator's hands: its
		// release, replayed from the dead-letter queue (make dlq replay,
		// resolve -as resend), still needs the sealed event to pay it.
		u.drop("due_part", "due_at")
	default:
		u.drop("due_part", "due_at", "sealed") // hold_until stays: when its window closed
	}
	cond := ""
	if from != nil {
		cond = u.statusIn(from)
	}
	return d.conditional(ctx, pk, u, cond, ErrNotInState)
}

// BeginRelease moves a held reward whose window has closed to releasing,
// and returns it with its reversals and sealed event. A reward already
// releasing (an earlier release that did not finish), parked or of
// unknown outcome (a release replayed from the dead-letter queue, after an
// operator's make dlq resolve) is returned too, with the status it was in
// (Was): the idempotency table decides whether it may be paid. Anything
// else, or a reward not yet due, is returned with ErrNotInState.
func (d *DynamoDB) BeginRelease(ctx context.Context, pk string) (*Entry, error) {
	u := newUpdate()
	u.put("status", str(Releasing))
	u.vals[":now"] = num(d.now().UnixMilli())
	u.names["#hold_until"] = "hold_until"
	cond := "(" + u.statusIn([]string{Held, Releasing, Parked, Unknown}) + ") AND #hold_until <= :now"
	out, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.Table), Key: key(pk),
		UpdateExpression: aws.String(u.expr()), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.vals,
		ReturnValues: types.ReturnValueAllOld, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		e := decode(pk, out.Attributes)
		e.Was, e.Status = e.Status, Releasing
		return e, nil
	case errors.As(err, &ccf):
		return decode(pk, ccf.Item), ErrNotInState
	}
	return nil, fmt.Errorf("ledger: release %s: %w", clip(pk), err)
}

// Get reads a record (strongly consistent); nil when there is none.
func (d *DynamoDB) Get(ctx context.Context, pk string) (*Entry, error) {
	out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table), Key: key(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", clip(pk), err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return decode(pk, out.Item), nil
}

// reversalAttr is the attribute that records one reversal by its id (a
// digest: ids are the provider's, of any length).
func reversalAttr(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "rv_" + hex.EncodeToString(sum[:10])
}

// Reverse applies one reversal to the record of the purchase it reverses,
// whether or not that purchase has been seen yet, and returns the record
// after it. applied is false when this reversal had been applied already
// (a delivery of it again) or, for a running total, when it is no larger
// than one already seen.
func (d *DynamoDB) Reverse(ctx context.Context, pk string, r mapping.Reversal) (_ *Entry, applied bool, _ error) {
	names := map[string]string{"#at": "reversed_at", "#exp": "expiration", "#n": "reversals"}
	vals := map[string]types.AttributeValue{":at": num(d.now().UnixMilli()), ":exp": d.expiration(), ":one": num(1)}
	set := []string{"#at = :at", "#exp = if_not_exists(#exp, :exp)"}
	add := []string{"#n :one"}
	if r.OrderID != "" {
		names["#order"], vals[":order"] = "order_id", str(r.OrderID)
		set = append(set, "#order = if_not_exists(#order, :order)")
	}
	if r.Currency != "" {
		names["#currency"], vals[":currency"] = "currency", str(r.Currency)
		set = append(set, "#currency = if_not_exists(#currency, :currency)")
	}
	mode := Live
	if strings.HasPrefix(pk, ShadowPrefix) {
		mode = ShadowMode
	}
	names["#mode"], vals[":mode"] = "mode", str(mode)
	set = append(set, "#mode = if_not_exists(#mode, :mode)")
	var cond string
	switch {
	case r.Total && r.Full:
		// The rest of a running total went back (Stripe's "refunded": true,
		// with no amount): whatever total came before, it voids, once.
		cond = "attribute_not_exists(#void)"
	case r.Total:
		// A running total: the largest seen counts, never a sum of totals.
		names["#total"], vals[":total"] = "refunded_total", dec(r.Amount)
		set = append(set, "#total = :total")
		cond = "attribute_not_exists(#total) OR #total < :total"
	default:
		// One reversal, counted once by its id.
		names["#rv"], vals[":rv"] = reversalAttr(r.ID), str(strings.TrimSpace(r.Reason+" "+string(r.Amount)))
		set = append(set, "#rv = :rv")
		cond = "attribute_not_exists(#rv)"
		if !r.Full {
			names["#refunded"], vals[":amount"] = "refunded", dec(r.Amount)
			add = append(add, "#refunded :amount")
		}
	}
	if !r.Full && r.Currency != "" {
		// The currencies of the amounts that went back: one in another
		// currency than the purchase's cannot be taken off it.
		names["#rc"], vals[":rc"] = "refund_currencies", &types.AttributeValueMemberSS{Value: []string{r.Currency}}
		add = append(add, "#rc :rc")
	}
	if r.Full {
		names["#void"], vals[":true"] = "void", &types.AttributeValueMemberBOOL{Value: true}
		names["#vr"], vals[":vr"] = "void_reason", str(r.Reason)
		set = append(set, "#void = :true", "#vr = if_not_exists(#vr, :vr)")
	}
	out, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.Table), Key: key(pk),
		UpdateExpression:    aws.String("SET " + strings.Join(set, ", ") + " ADD " + strings.Join(add, ", ")),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return decode(pk, out.Attributes), true, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return decode(pk, ccf.Item), false, nil
	}
	return nil, false, fmt.Errorf("ledger: reverse %s: %w", clip(pk), err)
}

// Due returns the pks of held rewards due at or before now, at most limit,
// from the index of held rewards (eventually consistent: BeginRelease
// checks again).
func (d *DynamoDB) Due(ctx context.Context, now time.Time, limit int) ([]Due, error) {
	var out []Due
	var start map[string]types.AttributeValue
	for len(out) < limit {
		q, err := d.Client.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(d.Table), IndexName: aws.String(DueIndex),
			KeyConditionExpression:    aws.String("due_part = :p AND due_at <= :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(duePart), ":now": num(now.UnixMilli())},
			Limit:                     aws.Int32(int32(min(limit-len(out), 1000))),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return out, fmt.Errorf("ledger: due rewards: %w", err)
		}
		for _, it := range q.Items {
			out = append(out, Due{PK: sOf(it, "pk"), DueAt: msOf(it, "due_at")})
		}
		if len(q.LastEvaluatedKey) == 0 {
			break
		}
		start = q.LastEvaluatedKey
	}
	return out, nil
}

// Due is a held reward whose window has closed.
type Due struct {
	PK    string
	DueAt time.Time
}

// Lease pushes a due reward's due time to until, if it is still seen
// (so that the next run does not release it again while this release is
// under way; if this one fails, the next run after until does). false when
// someone else moved it first.
func (d *DynamoDB) Lease(ctx context.Context, r Due, until time.Time) (bool, error) {
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.Table), Key: key(r.PK),
		UpdateExpression:          aws.String("SET due_at = :until"),
		ConditionExpression:       aws.String("due_at = :seen AND due_part = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": num(until.UnixMilli()), ":seen": num(r.DueAt.UnixMilli()), ":p": str(duePart)},
	})
	if err == nil {
		return true, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	return false, fmt.Errorf("ledger: lease %s: %w", clip(r.PK), err)
}

// Extend pushes the lease of a reward being released to until, if that
// is later than it is: its release is on the queue and will come back
// then (a retry's delay), so the releaser need not queue another copy
// meanwhile. A reward no longer releasing is left alone.
func (d *DynamoDB) Extend(ctx context.Context, pk string, until time.Time) error {
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.Table), Key: key(pk),
		UpdateExpression:         aws.String("SET due_at = :until"),
		ConditionExpression:      aws.String("#status = :releasing AND due_part = :p AND due_at < :until"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": num(until.UnixMilli()), ":releasing": str(Releasing),
			":p": str(duePart)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err == nil || errors.As(err, &ccf) {
		return nil
	}
	return fmt.Errorf("ledger: extend %s: %w", clip(pk), err)
}

func sOf(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func nOf(item map[string]types.AttributeValue, name string) json.Number {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return json.Number(v.Value)
	}
	return ""
}

func msOf(item map[string]types.AttributeValue, name string) time.Time {
	n, err := nOf(item, name).Int64()
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// Decode reads a record from its DynamoDB item (for the tools that scan
// the table).
func Decode(item map[string]types.AttributeValue) *Entry { return decode(sOf(item, "pk"), item) }

func decode(pk string, item map[string]types.AttributeValue) *Entry {
	e := &Entry{PK: pk}
	if len(item) == 0 {
		return e
	}
	e.Status, e.Mode, e.Reason = sOf(item, "status"), sOf(item, "mode"), sOf(item, "reason")
	e.Provider, e.OrderID, e.EventType, e.Currency = sOf(item, "provider"), sOf(item, "order_id"), sOf(item, "event_type"), sOf(item, "currency")
	e.Value, e.Counted = nOf(item, "value"), nOf(item, "counted")
	e.Customer, e.Email = sOf(item, "customer"), sOf(item, "email")
	e.DecidedAt, e.DueAt = msOf(item, "decided_at"), msOf(item, "hold_until")
	if b, ok := item["sealed"].(*types.AttributeValueMemberB); ok {
		e.Sealed = b.Value
	}
	if ss, ok := item["caps"].(*types.AttributeValueMemberSS); ok {
		e.Caps = ss.Value
	}
	e.Refunded, e.RefundedTotal = nOf(item, "refunded"), nOf(item, "refunded_total")
	if ss, ok := item["refund_currencies"].(*types.AttributeValueMemberSS); ok {
		e.RefundCurrencies = ss.Value
	}
	if b, ok := item["void"].(*types.AttributeValueMemberBOOL); ok {
		e.Void = b.Value
	}
	e.VoidReason = sOf(item, "void_reason")
	n, _ := nOf(item, "reversals").Int64()
	e.Reversals = int(n)
	e.ReversedAt = msOf(item, "reversed_at")
	e.PaidValue = nOf(item, "paid_value")
	hs, _ := nOf(item, "http_status").Int64()
	e.HTTPStatus = int(hs)
	e.RewardAmount, e.TxHash = sOf(item, "reward_amount"), sOf(item, "tx_hash")
	e.SettledAt = msOf(item, "settled_at")
	return e
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// ReleaseProvider and ReleaseType name the envelope the releaser queues
// for a held reward whose window has closed; its body is ReleaseBody.
const (
	ReleaseProvider = "relay"
	ReleaseType     = "release"
)

// ReleaseBody is a release envelope's body.
type ReleaseBody struct {
	PK string `json:"pk"`
}
