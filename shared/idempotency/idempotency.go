// Package idempotency makes sure a reward key is paid at most once. It
// follows AWS Lambda Powertools (one DynamoDB item per key, claimed with a
// conditional write and a lease that ends with the invocation) with one
// difference that matters for money: a claim whose outcome is unknown is
// never taken over silently.
//
// A record moves through these states:
//
//	(absent) --Claim--> INPROGRESS --Complete--> COMPLETED      (paid, or 409)
//	                        |--Release--> (absent)               (Resonance surely did not pay;
//	                        |                                     RESEND after an earlier attempt)
//	                        |--Unknown--> UNKNOWN                (timed out, 500, answer unreadable)
//	                        '--lease ends, nothing recorded--> counts as UNKNOWN
//	UNKNOWN --Resolve(paid)--> COMPLETED;  UNKNOWN --Resolve(resend)--> RESEND --Claim--> INPROGRESS
//
// A claim whose holder may have called Resonance and then died, or whose
// call timed out, or whose COMPLETED write failed, has an unknown outcome:
// Claim reports it (OutcomeUnknown) with what is known, and only an explicit
// Claim.Takeover of that very attempt (UnknownOutcome=resend) or an
// operator's Resolve moves it on. Each reward costs two writes: the claim,
// and its completion, release or unknown mark.
//
// Correctness never depends on DynamoDB's TTL deletion: a record past its
// expiration is treated as absent by the condition itself.
package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Statuses of a record.
const (
	StatusInProgress = "INPROGRESS"
	StatusCompleted  = "COMPLETED"
	StatusUnknown    = "UNKNOWN" // the holder may have been paid; nobody knows
	StatusResend     = "RESEND"  // an operator allowed one more attempt
)

// DefaultRetention is how long a record is kept: longer than any provider
// retries (Stripe: 3 days), the events queue keeps a message (4 days) and
// the DLQ keeps it for replay (14 days), and long enough that a captured
// Shopify or Zupy delivery (their signatures cover no timestamp) is refused
// by its business time before its key is forgotten: the forwarder parks
// bodies older than this less mapping.ReplayMargin (mapping.DefaultMemory
// is the same 400 days).
const DefaultRetention = 400 * 24 * time.Hour

// Record is a key's state.
type Record struct {
	Key                  string
	Status               string
	Expiration           time.Time // the record counts until then
	InProgressExpiration time.Time // an INPROGRESS claim's lease
	ClaimedAt            time.Time // when the latest attempt was claimed
	Attempt              int       // claims of this key so far (1 for the first)
	Owner                string    // the claim's token: only its holder releases or marks it
	RewardAmount         string
	TxHash               string
	HTTPStatus           int    // Resonance's last status, 0 if none
	Answer               string // Resonance's last answer body (unknown outcomes)
	Detail               string // why the outcome is unknown
}

// Outcome of a claim.
type Outcome int

const (
	// Claimed: the caller holds the key (Record says which attempt) and
	// must Complete, Release or mark it Unknown.
	Claimed Outcome = iota
	// AlreadyCompleted: the reward was paid; Record says with what.
	AlreadyCompleted
	// HeldElsewhere: another worker holds a live claim until
	// Record.InProgressExpiration.
	HeldElsewhere
	// OutcomeUnknown: an earlier attempt may have paid and nobody recorded
	// how it ended; Record says what is known.
	OutcomeUnknown
)

// Claim asks for a key.
type Claim struct {
	Key        string
	LeaseUntil time.Time
	// Takeover, when positive, also takes the key from an unknown outcome
	// whose attempt is Takeover (re-sending with the same Idempotency-Key).
	// Two workers that try to take over the same attempt: one wins.
	Takeover int
}

// Store is the idempotency table as the forwarder uses it.
type Store interface {
	// Claim takes c.Key until c.LeaseUntil, unless it is completed, held,
	// or of unknown outcome (and not taken over).
	Claim(ctx context.Context, c Claim) (Outcome, *Record, error)
	// Complete marks the key paid, with Resonance's answer.
	Complete(ctx context.Context, rec Record) error
	// Release deletes the caller's claim (rec.Owner) so a retry can run:
	// only when Resonance surely did not pay.
	Release(ctx context.Context, rec Record) error
	// Unknown marks the caller's claim as of unknown outcome, with
	// rec.Detail, rec.HTTPStatus and rec.Answer.
	Unknown(ctx context.Context, rec Record) error
}

// DynamoDB is a Store on a table whose partition key is "id" (string) and
// whose TTL attribute is "expiration".
type DynamoDB struct {
	Client interface {
		UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
		DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
		GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	}
	Table     string
	Retention time.Duration
	Now       func() time.Time
}

var _ Store = (*DynamoDB)(nil)

func (d *DynamoDB) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *DynamoDB) retention() time.Duration {
	if d.Retention > 0 {
		return d.Retention
	}
	return DefaultRetention
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func token() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// names are the attribute names the expressions use (several are reserved
// words in DynamoDB).
var names = map[string]string{
	"#status": "status", "#exp": "expiration", "#lease": "in_progress_expiration",
	"#owner": "owner", "#attempt": "attempt",
}

func someNames(keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = names[k]
	}
	return out
}

// Claim implements Store with one conditional UpdateItem: it takes an
// absent (or expired) key, a key an operator released for a resend, and,
// when asked, the unknown outcome of attempt c.Takeover.
func (d *DynamoDB) Claim(ctx context.Context, c Claim) (Outcome, *Record, error) {
	now := d.now()
	owner := token()
	cond := "attribute_not_exists(id) OR #exp < :now OR #status = :resend"
	vals := map[string]types.AttributeValue{
		":inprogress": str(StatusInProgress),
		":resend":     str(StatusResend),
		":now":        num(now.Unix()),
		":exp":        num(now.Add(d.retention()).Unix()),
		":lease":      num(c.LeaseUntil.UnixMilli()),
		":at":         str(now.UTC().Format(time.RFC3339Nano)),
		":owner":      str(owner),
		":one":        num(1),
	}
	if c.Takeover > 0 {
		cond += " OR (#attempt = :seen AND (#status = :unknown OR (#status = :inprogress AND #lease < :now_ms)))"
		vals[":seen"] = num(int64(c.Takeover))
		vals[":unknown"] = str(StatusUnknown)
		vals[":now_ms"] = num(now.UnixMilli())
	}
	out, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(d.Table),
		Key:                                 map[string]types.AttributeValue{"id": str(c.Key)},
		UpdateExpression:                    aws.String("SET #status = :inprogress, #exp = :exp, #lease = :lease, claimed_at = :at, #owner = :owner ADD #attempt :one REMOVE detail, answer, http_status"),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           vals,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return Claimed, decode(c.Key, out.Attributes), nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return 0, nil, fmt.Errorf("idempotency: claim %s: %w", c.Key, err)
	}
	rec := decode(c.Key, ccf.Item)
	return rec.classify(now), rec, nil
}

// classify says what a record that refused a claim means at now.
func (r *Record) classify(now time.Time) Outcome {
	switch r.Status {
	case StatusCompleted:
		return AlreadyCompleted
	case StatusInProgress:
		if r.InProgressExpiration.After(now) {
			return HeldElsewhere
		}
		if r.Detail == "" {
			r.Detail = fmt.Sprintf("attempt %d was claimed at %s by a worker that recorded no outcome before its lease ended at %s (it may have been paid)",
				r.Attempt, r.ClaimedAt.UTC().Format(time.RFC3339), r.InProgressExpiration.UTC().Format(time.RFC3339))
		}
		return OutcomeUnknown
	default: // UNKNOWN, or a RESEND taken by someone else in between
		if r.Status == StatusResend {
			return HeldElsewhere
		}
		return OutcomeUnknown
	}
}

// Complete implements Store. It is unconditional: whatever the record says,
// Resonance has paid.
func (d *DynamoDB) Complete(ctx context.Context, rec Record) error {
	now := d.now()
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(d.Table),
		Key:                      map[string]types.AttributeValue{"id": str(rec.Key)},
		UpdateExpression:         aws.String("SET #status = :completed, #exp = :exp, completed_at = :at, http_status = :code, reward_amount = :reward, tx_hash = :tx REMOVE #lease, detail, answer"),
		ExpressionAttributeNames: someNames("#status", "#exp", "#lease"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":completed": str(StatusCompleted),
			":exp":       num(now.Add(d.retention()).Unix()),
			":at":        str(now.UTC().Format(time.RFC3339Nano)),
			":code":      num(int64(rec.HTTPStatus)),
			":reward":    str(rec.RewardAmount),
			":tx":        str(rec.TxHash),
		},
	})
	if err != nil {
		return fmt.Errorf("idempotency: complete %s: %w", rec.Key, err)
	}
	return nil
}

// ErrNotHeld is returned by Release and Unknown when the caller's claim is
// no longer there (completed, or taken over after its lease ended).
var ErrNotHeld = errors.New("idempotency: the claim is no longer held by this worker")

// Release implements Store: it deletes the record only while it is the
// caller's INPROGRESS claim, so a completed or unknown record is never lost.
// A claim after an earlier attempt (a re-send of an unknown outcome) is
// not deleted but left RESEND, open to the next claim: its attempt count
// says an earlier attempt may have paid, which is what makes a 409 to the
// next one "already rewarded" rather than a first attempt's refusal.
func (d *DynamoDB) Release(ctx context.Context, rec Record) error {
	if rec.Attempt > 1 {
		_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                aws.String(d.Table),
			Key:                      map[string]types.AttributeValue{"id": str(rec.Key)},
			UpdateExpression:         aws.String("SET #status = :resend REMOVE #lease, #owner"),
			ConditionExpression:      aws.String("#status = :inprogress AND #owner = :owner"),
			ExpressionAttributeNames: someNames("#status", "#owner", "#lease"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":resend": str(StatusResend), ":inprogress": str(StatusInProgress), ":owner": str(rec.Owner),
			},
		})
		return held("release", rec.Key, err)
	}
	_, err := d.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(d.Table),
		Key:                      map[string]types.AttributeValue{"id": str(rec.Key)},
		ConditionExpression:      aws.String("#status = :inprogress AND #owner = :owner"),
		ExpressionAttributeNames: someNames("#status", "#owner"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inprogress": str(StatusInProgress), ":owner": str(rec.Owner),
		},
	})
	return held("release", rec.Key, err)
}

// Unknown implements Store.
func (d *DynamoDB) Unknown(ctx context.Context, rec Record) error {
	now := d.now()
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(d.Table),
		Key:                      map[string]types.AttributeValue{"id": str(rec.Key)},
		UpdateExpression:         aws.String("SET #status = :unknown, unknown_at = :at, detail = :detail, answer = :answer, http_status = :code REMOVE #lease"),
		ConditionExpression:      aws.String("#status = :inprogress AND #owner = :owner"),
		ExpressionAttributeNames: someNames("#status", "#owner", "#lease"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":unknown": str(StatusUnknown), ":inprogress": str(StatusInProgress), ":owner": str(rec.Owner),
			":at":     str(now.UTC().Format(time.RFC3339Nano)),
			":detail": str(clip(rec.Detail, 512)), ":answer": str(clip(rec.Answer, 1024)),
			":code": num(int64(rec.HTTPStatus)),
		},
	})
	return held("mark unknown", rec.Key, err)
}

func held(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w (%s %s)", ErrNotHeld, op, key)
	}
	return fmt.Errorf("idempotency: %s %s: %w", op, key, err)
}

// Resolution is an operator's decision on an unknown outcome.
type Resolution string

const (
	// ResolvedPaid records the reward as paid (the operator checked that
	// Resonance paid it): later deliveries are duplicates.
	ResolvedPaid Resolution = "paid"
	// ResolvedResend allows one more attempt, with the same
	// Idempotency-Key, by the next delivery of the key.
	ResolvedResend Resolution = "resend"
)

// ErrNotUnknown is returned by Resolve when the key's outcome is not
// unknown: it was paid, or is held by a live claim, or never claimed.
var ErrNotUnknown = errors.New("idempotency: the reward's outcome is not unknown")

// Get returns the key's record, or nil when there is none.
func (d *DynamoDB) Get(ctx context.Context, key string) (*Record, error) {
	out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(d.Table), Key: map[string]types.AttributeValue{"id": str(key)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("idempotency: read %s: %w", key, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return decode(key, out.Item), nil
}

// Resolve settles an unknown outcome as an operator decided (by names
// who, for the record). It changes nothing unless the key's outcome is
// unknown (UNKNOWN, or INPROGRESS past its lease), and returns
// ErrNotUnknown with the record then.
func (d *DynamoDB) Resolve(ctx context.Context, key string, how Resolution, by string) (*Record, error) {
	now := d.now()
	status := StatusCompleted
	switch how {
	case ResolvedPaid:
	case ResolvedResend:
		status = StatusResend
	default:
		return nil, fmt.Errorf("idempotency: unknown resolution %q (paid or resend)", how)
	}
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(d.Table),
		Key:                      map[string]types.AttributeValue{"id": str(key)},
		UpdateExpression:         aws.String("SET #status = :to, #exp = :exp, resolved_at = :at, resolved_by = :by, resolution = :how REMOVE #lease"),
		ConditionExpression:      aws.String("#status = :unknown OR (#status = :inprogress AND #lease < :now_ms)"),
		ExpressionAttributeNames: someNames("#status", "#exp", "#lease"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to": str(status), ":unknown": str(StatusUnknown), ":inprogress": str(StatusInProgress),
			":now_ms": num(now.UnixMilli()), ":exp": num(now.Add(d.retention()).Unix()),
			":at": str(now.UTC().Format(time.RFC3339Nano)), ":by": str(by), ":how": str(string(how)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return nil, fmt.Errorf("%w: %s was never claimed (or has expired)", ErrNotUnknown, key)
		}
		rec := decode(key, ccf.Item)
		return rec, fmt.Errorf("%w: %s is %s", ErrNotUnknown, key, rec.Status)
	}
	return nil, fmt.Errorf("idempotency: resolve %s: %w", key, err)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func decode(key string, item map[string]types.AttributeValue) *Record {
	r := &Record{Key: key}
	s := func(name string) string {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	n := func(name string) int64 {
		if v, ok := item[name].(*types.AttributeValueMemberN); ok {
			i, _ := strconv.ParseInt(v.Value, 10, 64)
			return i
		}
		return 0
	}
	r.Status = s("status")
	r.Expiration = time.Unix(n("expiration"), 0)
	if ms := n("in_progress_expiration"); ms != 0 {
		r.InProgressExpiration = time.UnixMilli(ms)
	}
	r.ClaimedAt, _ = time.Parse(time.RFC3339Nano, s("claimed_at"))
	r.Attempt, r.Owner = int(n("attempt")), s("owner")
	r.RewardAmount, r.TxHash, r.HTTPStatus = s("reward_amount"), s("tx_hash"), int(n("http_status"))
	r.Answer, r.Detail = s("answer"), s("detail")
	return r
}
