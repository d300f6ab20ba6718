package webhook

import (
	"bytes"
	"encoding/json"
)

// DecodeObject unmarshals an authenticated body into v, turning failures into
// a *ParseError. The body must be a JSON object.
func DecodeObject(body []byte, v any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return &ParseError{Reason: ReasonInvalidJSON, Detail: "body is not a JSON object"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &ParseError{Reason: ReasonInvalidJSON, Detail: err.Error()}
	}
	return nil
}

// CheckObject reports, as a *ParseError, whether body is not a JSON object.
func CheckObject(body []byte) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
		return &ParseError{Reason: ReasonInvalidJSON, Detail: "body is not a JSON object"}
	}
	return nil
}

// Keep copies the named headers that are present into a new map.
func (h Header) Keep(names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		if v := h[n]; v != "" {
			out[n] = v
		}
	}
	return out
}
