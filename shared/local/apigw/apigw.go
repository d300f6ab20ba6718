// Package apigw builds API Gateway HTTP API (payload format 2.0) events the
// way AWS does, for the sample events, the local stack and tests.
package apigw

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Request describes an HTTP request as it reached API Gateway.
type Request struct {
	Method    string
	Path      string // e.g. /webhooks/shopify
	Query     string // raw query string, without '?'
	Domain    string // e.g. abc123.execute-api.us-east-1.amazonaws.com
	Headers   map[string]string
	Body      []byte
	SourceIP  string
	RequestID string
	Time      time.Time
	// Route is the route that matched ("/webhooks/hmac/{source}"), with
	// Params its path parameters; "" is Path itself.
	Route  string
	Params map[string]string
}

// Event returns the payload 2.0 event AWS would send: header names
// lowercased (repeated headers joined by commas), and the body base64-encoded
// unless its Content-Type is text (text/*, JSON, XML, form).
func Event(r Request) events.APIGatewayV2HTTPRequest {
	headers := make(map[string]string, len(r.Headers))
	for k, v := range r.Headers {
		k = strings.ToLower(k)
		if prev, ok := headers[k]; ok {
			v = prev + "," + v
		}
		headers[k] = v
	}
	if r.Method == "" {
		r.Method = "POST"
	}
	if r.Domain == "" {
		r.Domain = "localhost"
	}
	if r.SourceIP == "" {
		r.SourceIP = "127.0.0.1"
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if r.RequestID == "" {
		r.RequestID = "local-" + r.Time.UTC().Format("20060102T150405.000000000")
	}
	route := r.Route
	if route == "" {
		route = r.Path
	}
	routeKey := r.Method + " " + route
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       routeKey,
		RawPath:        r.Path,
		RawQueryString: r.Query,
		Headers:        headers,
		PathParameters: r.Params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "123456789012",
			Stage:        "$default",
			RequestID:    r.RequestID,
			APIID:        strings.SplitN(r.Domain, ".", 2)[0],
			DomainName:   r.Domain,
			DomainPrefix: strings.SplitN(r.Domain, ".", 2)[0],
			Time:         r.Time.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    r.Time.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.Path,
				Protocol:  "HTTP/1.1",
				SourceIP:  r.SourceIP,
				UserAgent: headers["user-agent"],
			},
		},
	}
	if IsText(headers["content-type"]) {
		ev.Body = string(r.Body)
	} else {
		ev.Body = base64.StdEncoding.EncodeToString(r.Body)
		ev.IsBase64Encoded = true
	}
	return ev
}

// IsText reports whether API Gateway passes a body of this Content-Type as
// text rather than base64. A missing Content-Type counts as binary.
func IsText(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch {
	case ct == "":
		return false
	case strings.HasPrefix(ct, "text/"),
		ct == "application/json", strings.HasSuffix(ct, "+json"),
		ct == "application/xml", strings.HasSuffix(ct, "+xml"),
		ct == "application/x-www-form-urlencoded", ct == "application/javascript":
		return true
	}
	return false
}

// AsFunctionURL turns ev into the event a Lambda function URL sends for the
// same request: the same payload 2.0 shape, but no routes (route key
// $default), no path parameters, and an anonymous account.
func AsFunctionURL(ev *events.APIGatewayV2HTTPRequest) {
	ev.RouteKey = "$default"
	ev.RequestContext.RouteKey = "$default"
	ev.PathParameters = nil
	ev.RequestContext.AccountID = "anonymous"
}
