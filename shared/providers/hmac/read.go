package hmac

import (
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// find returns the raw JSON value at the first of paths ("a.b|c", dotted
// paths separated by "|") that holds something other than null or "", or
// nil when none does. It walks the body object by object with
// webhook.TopLevel, so a key is matched as encoding/json matches it and an
// object on the way that has two keys that rule reads as one is an error
// (ReasonAmbiguousPayload); a body that is not a JSON object is
// ReasonInvalidJSON. Ingest (Parse) and the forwarder (Map) both read
// through it: one reading.
func find(body []byte, paths string) ([]byte, error) {
	if paths == "" {
		return nil, nil
	}
	for path := range strings.SplitSeq(paths, "|") {
		raw, err := at(body, path)
		if err != nil {
			return nil, err
		}
		if len(raw) > 0 && string(raw) != "null" && string(raw) != `""` {
			return raw, nil
		}
	}
	return nil, nil
}

// at follows one dotted path; nil when it leads nowhere.
func at(body []byte, path string) ([]byte, error) {
	cur := body
	first := true
	for seg := range strings.SplitSeq(path, ".") {
		if !first && (len(cur) == 0 || cur[0] != '{') {
			return nil, nil
		}
		first = false
		var f [1][]byte
		if err := webhook.TopLevelInto(cur, []string{seg}, f[:]); err != nil {
			return nil, err
		}
		v, ok := f[0], f[0] != nil
		if !ok {
			return nil, nil
		}
		cur = v
	}
	return cur, nil
}
