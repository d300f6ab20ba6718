package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A cap counter is one item per rule, customer and period ("cap|<mode>|
// <rule>|<customer>|<period>"): the set of reward keys that hold a place in
// it and the sum of their values. Taking a place is one conditional write,
// so two forwarders cannot both take the last place; taking it again for
// the same reward is a no-op (a retry, a duplicate delivery), and giving it
// back (a reward voided, refused or parked: not paid in the end) removes
// exactly that reward's place.

// Counter names one cap counter and its limits.
type Counter struct {
	PK         string
	MaxRewards int         // 0: no limit on the count
	MaxValue   json.Number // "": no limit on the value
	Until      time.Time   // end of its period (it expires after)
}

// CounterPK is the counter's key for a cap in a mode, customer and period
// (the period's number since the epoch).
func CounterPK(mode, rule, customer string, period int64) string {
	return "cap|" + mode + "|" + rule + "|" + customer + "|" + strconv.FormatInt(period, 10)
}

// ParseCounterPK is CounterPK's inverse; ok is false for any other key.
func ParseCounterPK(pk string) (mode, rule, customer string, period int64, ok bool) {
	p := strings.Split(pk, "|")
	if len(p) != 5 || p[0] != "cap" {
		return "", "", "", 0, false
	}
	n, err := strconv.ParseInt(p[4], 10, 64)
	if err != nil {
		return "", "", "", 0, false
	}
	return p[1], p[2], p[3], n, true
}

// Reserve takes a place for the reward key with value in c. ok is false
// when the cap is reached (the counter stays as it was); a key that already
// holds a place is ok without counting twice.
func (d *DynamoDB) Reserve(ctx context.Context, c Counter, rewardKey string, value json.Number) (ok bool, _ error) {
	if c.MaxValue != "" && Cmp(orZero(value), c.MaxValue) > 0 {
		return false, nil // one order above the whole cap
	}
	names := map[string]string{"#m": "members", "#v": "total", "#exp": "expiration"}
	vals := map[string]types.AttributeValue{
		":k":   &types.AttributeValueMemberSS{Value: []string{rewardKey}},
		":ks":  str(rewardKey),
		":v":   dec(value),
		":exp": num(c.Until.Add(48 * time.Hour).Unix()),
	}
	cond := "NOT contains(#m, :ks)"
	if c.MaxRewards > 0 {
		vals[":max"] = num(int64(c.MaxRewards))
		cond += " AND (attribute_not_exists(#m) OR size(#m) < :max)"
	}
	if c.MaxValue != "" {
		vals[":room"] = dec(Sub(c.MaxValue, orZero(value)))
		cond += " AND (attribute_not_exists(#v) OR #v <= :room)"
	}
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.Table), Key: key(c.PK),
		UpdateExpression:    aws.String("ADD #m :k, #v :v SET #exp = :exp"),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return true, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if ss, isSet := ccf.Item["members"].(*types.AttributeValueMemberSS); isSet && slices.Contains(ss.Value, rewardKey) {
			return true, nil // this reward holds a place already
		}
		return false, nil
	}
	return false, fmt.Errorf("ledger: cap %s: %w", clip(c.PK), err)
}

// Unreserve gives back the reward key's place in the counter pk, with its
// value; a no-op when it holds none.
func (d *DynamoDB) Unreserve(ctx context.Context, pk, rewardKey string, value json.Number) error {
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.Table), Key: key(pk),
		UpdateExpression:         aws.String("DELETE #m :k ADD #v :neg"),
		ConditionExpression:      aws.String("contains(#m, :ks)"),
		ExpressionAttributeNames: map[string]string{"#m": "members", "#v": "total"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":k": &types.AttributeValueMemberSS{Value: []string{rewardKey}}, ":ks": str(rewardKey),
			":neg": dec(Sub("0", orZero(value))),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if err == nil || errors.As(err, &ccf) {
		return nil
	}
	return fmt.Errorf("ledger: give back cap %s: %w", clip(pk), err)
}
