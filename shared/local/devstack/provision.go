package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

// LocalFile is events/local-secrets.json: secret values by the template's
// logical id, and values for parameters without a default.
type LocalFile struct {
	Secrets    map[string]json.RawMessage
	Parameters map[string]string
}

// LoadLocalFile reads the local development file.
func LoadLocalFile(path string) (*LocalFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("devstack: %s: %w", path, err)
	}
	lf := &LocalFile{Secrets: map[string]json.RawMessage{}, Parameters: map[string]string{}}
	for k, v := range all {
		switch k {
		case "_comment":
		case "parameters":
			if err := json.Unmarshal(v, &lf.Parameters); err != nil {
				return nil, fmt.Errorf("devstack: %s: parameters: %w", path, err)
			}
		default:
			lf.Secrets[k] = v
		}
	}
	return lf, nil
}

// WebhookSecrets returns each provider's signing secrets, read as its ingest
// function reads them: its entry in its own secret (spec.Spec.SecretID), or
// for a Sourced provider each source's, as "<name>:<source>".
// A provider without a secret in the file has none.
func (lf *LocalFile) WebhookSecrets() (secrets.WebhookSecrets, error) {
	out := secrets.WebhookSecrets{}
	for _, p := range providers.Names() {
		raw, ok := lf.Secrets[samples.Spec(p).SecretID]
		if !ok {
			continue
		}
		ws, err := secrets.ParseWebhookSecrets(string(raw))
		if err != nil {
			return nil, fmt.Errorf("devstack: %s: %w", samples.Spec(p).SecretID, err)
		}
		if samples.Spec(p).Sourced { // keyed by source: "hmac:<source>"
			for source, keys := range ws {
				out[p+":"+source] = keys
			}
			continue
		}
		out[p] = ws[p]
	}
	return out, nil
}

// Options change what Provision creates, for tests.
type Options struct {
	Prefix            string            // resource name prefix (default "local")
	Params            map[string]string // parameter overrides
	VisibilityTimeout int               // seconds; 0 keeps the template's
}

// Provision creates at the endpoints the queues, tables and
// secrets the template declares, seeds the secrets from lf, and returns a
// Resolver that knows their names, URLs and ARNs.
func Provision(ctx context.Context, eps motoserver.Endpoints, t *Template, lf *LocalFile, o Options) (*Resolver, error) {
	prefix := o.Prefix
	if prefix == "" {
		prefix = "local"
	}
	r := &Resolver{Params: t.ParamDefaults(), Refs: map[string]string{}, Attrs: map[string]map[string]string{}, Conditions: t.Conditions}
	for k, v := range lf.Parameters {
		r.Params[k] = v
	}
	// A provider's webhook secret exists when its parameter is set; the
	// local file holds the secrets themselves, so every provider it names
	// is set up.
	for id := range lf.Secrets {
		if p := id + "s"; strings.HasSuffix(id, "WebhookSecret") && (r.Params[p] == "" || r.Params[p] == "{}") {
			r.Params[p] = "(events/local-secrets.json)"
		}
	}
	for k, v := range o.Params {
		r.Params[k] = v
	}
	for _, id := range t.IDs("AWS::Serverless::HttpApi") {
		r.Refs[id] = "local"
	}
	for _, id := range t.IDs("AWS::Logs::LogGroup") {
		r.Refs[id] = prefix + "-" + id
	}
	if err := provisionSecrets(ctx, eps.Config(motoserver.SecretsManager), t, lf, r, prefix); err != nil {
		return nil, err
	}
	if err := provisionTables(ctx, eps.Config(motoserver.DynamoDB), t, r, prefix); err != nil {
		return nil, err
	}
	if err := provisionQueues(ctx, eps.Config(motoserver.SQS), t, r, prefix, o.VisibilityTimeout); err != nil {
		return nil, err
	}
	return r, nil
}

func provisionSecrets(ctx context.Context, cfg aws.Config, t *Template, lf *LocalFile, r *Resolver, prefix string) error {
	sm := secretsmanager.NewFromConfig(cfg)
	for _, id := range t.IDs("AWS::SecretsManager::Secret") {
		if c := t.Resources[id].Condition; c != "" {
			if ok, err := r.Condition(c); err != nil || !ok {
				if err != nil {
					return err
				}
				continue // not created: no provider of it in use
			}
		}
		v, ok := lf.Secrets[id]
		if !ok {
			return fmt.Errorf("devstack: the local file has no value for secret %s", id)
		}
		value := string(v)
		var s string
		if json.Unmarshal(v, &s) == nil {
			value = s
		}
		name := prefix + "-" + id
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			// Already there (a reused endpoint): put the local value.
			if _, perr := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)}); perr != nil {
				return fmt.Errorf("devstack: secret %s: %w", id, err)
			}
			d, derr := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
			if derr != nil {
				return fmt.Errorf("devstack: secret %s: %w", id, derr)
			}
			r.Refs[id] = aws.ToString(d.ARN)
			continue
		}
		r.Refs[id] = aws.ToString(out.ARN)
	}
	return nil
}

func provisionTables(ctx context.Context, cfg aws.Config, t *Template, r *Resolver, prefix string) error {
	db := dynamodb.NewFromConfig(cfg)
	for _, id := range t.IDs("AWS::DynamoDB::Table") {
		p := t.Resources[id].Properties
		name := prefix + "-" + id
		in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest}
		for _, a := range list(p["AttributeDefinitions"]) {
			in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
				AttributeName: aws.String(str(a["AttributeName"])), AttributeType: ddbtypes.ScalarAttributeType(str(a["AttributeType"])),
			})
		}
		for _, k := range list(p["KeySchema"]) {
			in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{
				AttributeName: aws.String(str(k["AttributeName"])), KeyType: ddbtypes.KeyType(str(k["KeyType"])),
			})
		}
		for _, g := range list(p["GlobalSecondaryIndexes"]) {
			gsi := ddbtypes.GlobalSecondaryIndex{IndexName: aws.String(str(g["IndexName"])), Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeKeysOnly}}
			for _, k := range list(g["KeySchema"]) {
				gsi.KeySchema = append(gsi.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(str(k["AttributeName"])), KeyType: ddbtypes.KeyType(str(k["KeyType"]))})
			}
			if pr, ok := g["Projection"].(map[string]any); ok {
				gsi.Projection.ProjectionType = ddbtypes.ProjectionType(str(pr["ProjectionType"]))
			}
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
		}
		if _, err := db.CreateTable(ctx, in); err != nil {
			var exists *ddbtypes.ResourceInUseException
			if !asErr(err, &exists) {
				return fmt.Errorf("devstack: table %s: %w", id, err)
			}
		}
		if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok {
			_, _ = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(str(ttl["AttributeName"])), Enabled: aws.Bool(true)}})
		}
		r.Refs[id] = name
		r.Attrs[id] = map[string]string{"Arn": "arn:aws:dynamodb:" + motoserver.Region + ":123456789012:table/" + name}
	}
	return nil
}

// provisionQueues creates queues that others redrive to first.
func provisionQueues(ctx context.Context, cfg aws.Config, t *Template, r *Resolver, prefix string, visibility int) error {
	q := sqs.NewFromConfig(cfg)
	ids := t.IDs("AWS::SQS::Queue")
	sort.SliceStable(ids, func(i, j int) bool {
		_, ri := t.Resources[ids[i]].Properties["RedrivePolicy"]
		_, rj := t.Resources[ids[j]].Properties["RedrivePolicy"]
		return !ri && rj
	})
	for _, id := range ids {
		p := t.Resources[id].Properties
		name := prefix + "-" + id
		attrs := map[string]string{}
		for _, a := range []string{"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"} {
			if v, ok := p[a]; ok {
				s, err := r.Resolve(v)
				if err != nil {
					return err
				}
				attrs[a] = s
			}
		}
		if visibility > 0 {
			attrs["VisibilityTimeout"] = strconv.Itoa(visibility)
		}
		if rp, ok := p["RedrivePolicy"].(map[string]any); ok {
			target, err := r.Resolve(rp["deadLetterTargetArn"])
			if err != nil {
				return err
			}
			count, err := r.Resolve(rp["maxReceiveCount"])
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(count)
			b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": target, "maxReceiveCount": n})
			attrs["RedrivePolicy"] = string(b)
		}
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			return fmt.Errorf("devstack: queue %s: %w", id, err)
		}
		r.Refs[id] = aws.ToString(out.QueueUrl)
		r.Attrs[id] = map[string]string{"Arn": "arn:aws:sqs:" + motoserver.Region + ":123456789012:" + name, "QueueName": name}
	}
	return nil
}

func list(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(v any) string { return fmt.Sprint(v) }

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
