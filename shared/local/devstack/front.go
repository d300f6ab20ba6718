package devstack

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
)

// Front serves the HTTP API's routes as API Gateway would: each request
// becomes the payload 2.0 event AWS sends, handed to the route's function.
type Front struct {
	Routes map[string]HTTPHandler // "POST /webhooks/shopify" -> handler
	// Observe, when set, is told of every request the routes answered.
	Observe func(Request)
	// FunctionURLEvery, when positive, hands every that many requests to
	// the function in the event shape of a Lambda function URL (route key
	// $default, no path parameters), as Front=FunctionUrl does; the rest in
	// the HTTP API's. FunctionURLs counts them.
	FunctionURLEvery int64
	requests         atomic.Int64
	FunctionURLs     atomic.Int64
}

// Request is one request the front answered, for a console line.
type Request struct {
	Route   string // the path's last part: shopify, stripe, ...
	Status  int
	Outcome string // the handler's {"status": ...}, or the status text
	Took    time.Duration
}

// maxPayload is API Gateway HTTP API's payload limit.
const maxPayload = 10 << 20

// match finds the route of a request as API Gateway does: an exact path,
// else a route whose {name} segments each match one non-empty segment.
func (f *Front) match(method, p string) (route string, params map[string]string, h HTTPHandler) {
	if h := f.Routes[method+" "+p]; h != nil {
		return p, nil, h
	}
	got := strings.Split(p, "/")
	for key, h := range f.Routes {
		m, r, _ := strings.Cut(key, " ")
		want := strings.Split(r, "/")
		if m != method || len(want) != len(got) || !strings.Contains(r, "{") {
			continue
		}
		params = map[string]string{}
		for i, w := range want {
			switch {
			case strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") && got[i] != "":
				params[w[1:len(w)-1]] = got[i]
			case w != got[i]:
				params = nil
			}
			if params == nil {
				break
			}
		}
		if params != nil {
			return r, params, h
		}
	}
	return "", nil, nil
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, params, h := f.match(r.Method, r.URL.Path)
	if h == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"message":"Not Found"}`)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		w.WriteHeader(413)
		_, _ = io.WriteString(w, `{"message":"Request Entity Too Large"}`)
		return
	}
	headers := map[string]string{}
	for k, vs := range r.Header {
		headers[k] = strings.Join(vs, ",")
	}
	began := time.Now()
	var id [9]byte
	_, _ = rand.Read(id[:])
	ev := apigw.Event(apigw.Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Domain: r.Host,
		Headers: headers, Body: body, SourceIP: strings.Split(r.RemoteAddr, ":")[0],
		RequestID: base64.RawURLEncoding.EncodeToString(id[:]) + "=", Time: time.Now(),
		Route: route, Params: params,
	})
	if n := f.requests.Add(1); f.FunctionURLEvery > 0 && n%f.FunctionURLEvery == 0 {
		apigw.AsFunctionURL(&ev)
		f.FunctionURLs.Add(1)
	}
	resp, err := h(r.Context(), ev)
	if err != nil {
		w.WriteHeader(500)
		_, _ = io.WriteString(w, `{"message":"Internal Server Error"}`)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Apigw-Requestid", hex.EncodeToString(id[:]))
	status := resp.StatusCode
	if status == 0 {
		status = 200
	}
	w.WriteHeader(status)
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	_, _ = w.Write(b)
	if f.Observe != nil {
		var answer struct {
			Status string `json:"status"`
		}
		outcome := http.StatusText(status)
		if json.Unmarshal(b, &answer) == nil && answer.Status != "" {
			outcome = answer.Status
		}
		f.Observe(Request{Route: path.Base(r.URL.Path), Status: status, Outcome: outcome, Took: time.Since(began)})
	}
}
