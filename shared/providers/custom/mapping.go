package custom

import (
	"encoding/json"
	"fmt"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Mapper forwards a custom event as it was sent: type, customerEmail and
// data become eventType, userEmail and metadata, keyed on the sender's id.
// Config.Events, when it has entries, renames or (with "") drops types. A
// type that is (or is renamed to) "refund" or mapping.KindReversal is a
// reversal of an earlier purchase, never sent to Resonance (reversal.go).
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

// Map implements mapping.Mapper.
func (Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	var ev struct {
		ID            mapping.ID     `json:"id"`
		Type          string         `json:"type"`
		CustomerEmail string         `json:"customerEmail"`
		CustomerID    mapping.ID     `json:"customerId"`
		Data          map[string]any `json:"data"`
	}
	if err := mapping.DecodeBody(env, &ev); err != nil {
		return mapping.Result{}, err
	}
	kind := ev.Type
	if len(cfg.Events) > 0 {
		if kind = cfg.Events[ev.Type]; kind == "" {
			return mapping.Result{Skipped: "event_not_mapped"}, nil
		}
	}
	if kind == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "no type"}
	}
	id := string(ev.ID)
	if id == "" {
		id = env.DeliveryID
	}
	if kind == TypeRefund || kind == mapping.KindReversal {
		return mapRefund(cfg, id, ev.Data)
	}
	email, err := mapping.Identity("custom", ev.CustomerEmail, string(ev.CustomerID), cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	// Forwarded as it is, but only if it is an amount (mapping.Decimal).
	if v, ok := ev.Data["order_value"]; ok && v != nil {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			s = fmt.Sprintf("%T", v)
		}
		if _, err := mapping.Amount("data.order_value", s); err != nil {
			return mapping.Result{}, err
		}
	}
	return mapping.One("custom:"+id, cfg, kind, email, ev.Data), nil
}
