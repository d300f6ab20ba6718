package main

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
)

// TestSendThroughTheLocalStack is `make dev` plus `make send`: every genuine
// sample is accepted by the local front, and the forwarder, fed from the
// events queue, pays each distinct reward once in the sandbox.
func TestSendThroughTheLocalStack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Config{Template: "../../template.yaml", LocalFile: "../../events/local-secrets.json", Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	front := httptest.NewServer(stack.Front)
	defer front.Close()
	done := make(chan struct{})
	go func() { stack.RunPollers(ctx, nil); close(done) }()

	if err := run(front.URL, "../../events/local-secrets.json", "../../events", ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(stack.Sandbox.Awards()) < 15 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // nothing more may arrive
	if n := len(stack.Sandbox.Awards()); n != 15 {
		t.Fatalf("%d awards, want 15 (17 samples: one Stripe payment twice, one WooCommerce order not paid)", n)
	}
	cancel()
	<-done
}
