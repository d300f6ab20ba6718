// Package idempotency makes sure a reward key is paid at most once, the way
// AWS Lambda Powertools does it: one DynamoDB item per key, claimed INPROGRESS
// with a conditional PutItem and a lease that ends with the invocation,
// marked COMPLETED with Resonance's answer after success, deleted after a
// transient failure so that a retry can run. Correctness never depends on
// DynamoDB's TTL deletion: an expired record is treated as absent by the
// condition itself.
package idempotency

import (
	"context"
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
	RewardAmount         string
	TxHash               string
	HTTPStatus           int
}

// Outcome of a claim.
type Outcome int

const (
	// Claimed: the caller holds the key and must Complete or Release it.
	Claimed Outcome = iota
	// AlreadyCompleted: the reward was paid; Record says with what.
	AlreadyCompleted
	// HeldElsewhere: another worker holds a live claim until
	// Record.InProgressExpiration.
	HeldElsewhere
)

// Store is the idempotency table.
type Store interface {
	// Claim takes key until leaseUntil, unless it is completed or held.
	Claim(ctx context.Context, key string, leaseUntil time.Time) (Outcome, *Record, error)
	// Complete marks key paid, with Resonance's answer.
	Complete(ctx context.Context, rec Record) error
	// Release deletes the caller's INPROGRESS claim so a retry can run.
	Release(ctx context.Context, key string) error
}

// DynamoDB is a Store on a table whose partition key is "id" (string) and
// whose TTL attribute is "expiration".
type DynamoDB struct {
	Client interface {
		PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
		UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
		DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
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

// Claim implements Store with one conditional PutItem.
func (d *DynamoDB) Claim(ctx context.Context, key string, leaseUntil time.Time) (Outcome, *Record, error) {
	now := d.now()
	_, err := d.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.Table),
		Item: map[string]types.AttributeValue{
			"id":                     str(key),
			"status":                 str(StatusInProgress),
			"expiration":             num(now.Add(d.retention()).Unix()),
			"in_progress_expiration": num(leaseUntil.UnixMilli()),
			"claimed_at":             str(now.UTC().Format(time.RFC3339Nano)),
		},
		ConditionExpression: aws.String("attribute_not_exists(id) OR #exp < :now OR (#status = :inprogress AND #lease < :now_ms)"),
		ExpressionAttributeNames: map[string]string{
			"#exp": "expiration", "#status": "status", "#lease": "in_progress_expiration",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": num(now.Unix()), ":now_ms": num(now.UnixMilli()), ":inprogress": str(StatusInProgress),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return Claimed, nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return 0, nil, fmt.Errorf("idempotency: claim %s: %w", key, err)
	}
	rec := decode(key, ccf.Item)
	if rec.Status == StatusCompleted {
		return AlreadyCompleted, rec, nil
	}
	return HeldElsewhere, rec, nil
}

// Complete implements Store.
func (d *DynamoDB) Complete(ctx context.Context, rec Record) error {
	now := d.now()
	vals := map[string]types.AttributeValue{
		":completed": str(StatusCompleted),
		":exp":       num(now.Add(d.retention()).Unix()),
		":at":        str(now.UTC().Format(time.RFC3339Nano)),
		":code":      num(int64(rec.HTTPStatus)),
		":reward":    str(rec.RewardAmount),
		":tx":        str(rec.TxHash),
	}
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.Table),
		Key:                       map[string]types.AttributeValue{"id": str(rec.Key)},
		UpdateExpression:          aws.String("SET #status = :completed, #exp = :exp, completed_at = :at, http_status = :code, reward_amount = :reward, tx_hash = :tx REMOVE in_progress_expiration"),
		ExpressionAttributeNames:  map[string]string{"#status": "status", "#exp": "expiration"},
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		return fmt.Errorf("idempotency: complete %s: %w", rec.Key, err)
	}
	return nil
}

// Release implements Store: it deletes the record only while INPROGRESS, so a
// completed record is never lost.
func (d *DynamoDB) Release(ctx context.Context, key string) error {
	_, err := d.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.Table),
		Key:                       map[string]types.AttributeValue{"id": str(key)},
		ConditionExpression:       aws.String("#status = :inprogress"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":inprogress": str(StatusInProgress)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("idempotency: release %s: %w", key, err)
	}
	return nil
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
	r.InProgressExpiration = time.UnixMilli(n("in_progress_expiration"))
	r.RewardAmount, r.TxHash, r.HTTPStatus = s("reward_amount"), s("tx_hash"), int(n("http_status"))
	return r
}
