# Resonance webhook relay. `make help` lists the targets.

FUNCTIONS := ShopifyWebhookFunction StripeWebhookFunction ZupyWebhookFunction LoyaltyNowWebhookFunction CustomWebhookFunction ForwarderFunction
# Logical id -> package under functions/.
pkg_ShopifyWebhookFunction    := shopify
pkg_StripeWebhookFunction     := stripe
pkg_ZupyWebhookFunction       := zupy
pkg_LoyaltyNowWebhookFunction := loyaltynow
pkg_CustomWebhookFunction     := custom
pkg_ForwarderFunction         := forwarder

SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c
GO          ?= go
BUILD_DIR   ?= .aws-sam/build
MAX_BINARY  ?= 10485760
FUZZTIME    ?= 10s
# Exactly what `sam build` runs for BuildMethod: makefile (it sets ARTIFACTS_DIR).
LAMBDA_ARCH ?= arm64
LAMBDA_ENV   = GOOS=linux GOARCH=$(LAMBDA_ARCH) CGO_ENABLED=0
LAMBDA_FLAGS = -tags lambda.norpc -trimpath -ldflags="-s -w -buildid="

.PHONY: help setup build test test-go lint fuzz bench events clean dev send invoke e2e coldstart dlq $(addprefix build-,$(FUNCTIONS))

help:
	@echo "make setup   install what the tests need (moto_server, cfn-lint) and Go modules"
	@echo "make dev     the whole pipeline on 127.0.0.1:\$$PORT (3000) with moto and a local Resonance sandbox"
	@echo "make send    sign and post every genuine sample to BASE_URL (default the local stack)"
	@echo "make invoke FUNCTION=<LogicalId> EVENT=<file>   run a bootstrap under a local Lambda Runtime API"
	@echo "make test    everything CI runs: lint, unit and integration tests, the e2e fault test, build and size check"
	@echo "make e2e     the end-to-end fault test (part of make test)"
	@echo "make build   one bootstrap per function under $(BUILD_DIR)/<LogicalId>/"
	@echo "make lint    gofmt, go vet, cfn-lint template.yaml"
	@echo "make fuzz    each fuzz target for FUZZTIME (default $(FUZZTIME))"
	@echo "make bench   verifier benchmarks beside bare HMAC-SHA256, a forwarder batch beside one call"
	@echo "make events  re-sign the sample events in events/ with the current time"
	@echo "make dlq ARGS=\"-stack NAME list\"   review, show, replay, redrive or delete dead letters (-local for make dev's)"

# sam build calls build-<LogicalId> with ARTIFACTS_DIR set.
$(addprefix build-,$(FUNCTIONS)): build-%:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(pkg_$*)

build:
	@for f in $(FUNCTIONS); do \
		$(MAKE) --no-print-directory build-$$f ARTIFACTS_DIR=$(CURDIR)/$(BUILD_DIR)/$$f || exit 1; \
	done
	@for f in $(FUNCTIONS); do \
		size=$$(stat -c %s $(BUILD_DIR)/$$f/bootstrap); \
		printf '%-28s %9d bytes\n' $$f $$size; \
		if [ $$size -ge $(MAX_BINARY) ]; then echo "$$f: bootstrap is over $(MAX_BINARY) bytes" >&2; exit 1; fi; \
	done

setup:
	@command -v moto_server >/dev/null || python3 -m pip install --quiet 'moto[server]>=5,<6'
	@command -v cfn-lint >/dev/null || python3 -m pip install --quiet cfn-lint
	$(GO) mod download

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change: $$out" >&2; exit 1; fi
	$(GO) vet ./...
	cfn-lint template.yaml

test-go:
	$(GO) test -race -count=1 ./...

# The end-to-end fault test: about 1,300 webhooks through the local stack
# into a faulty Resonance (a few minutes). It ends with the e2e: summary line.
e2e:
	$(GO) test -tags e2e -count=1 -v -run '^TestE2E$$' -timeout 15m ./shared/devstack/ | grep -v '^{'

test: lint test-go e2e build

fuzz:
	@for p in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
			echo "$$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
		done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./shared/providers/ ./shared/ingest/ ./shared/forward/ \
		| $(GO) run ./cmd/benchratio -goals BenchmarkIngest=2,BenchmarkBatch=1.5

events:
	$(GO) run ./cmd/sign-events

coldstart:
	$(GO) run ./cmd/coldstart $(if $(RUNS),-runs $(RUNS))

dev:
	$(GO) run ./cmd/dev

send:
	$(GO) run ./cmd/send $(if $(BASE_URL),-base $(BASE_URL))

# The same build as sam build's, for this machine's architecture so that it
# runs here (Lambda runs the arm64 one).
invoke:
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=<file>" >&2; exit 2; }
	@$(MAKE) --no-print-directory build-$(FUNCTION) ARTIFACTS_DIR=$(CURDIR)/.aws-sam/invoke/$(FUNCTION) LAMBDA_ARCH=$$($(GO) env GOARCH) >/dev/null
	$(GO) run ./cmd/invoke -function $(FUNCTION) -event $(EVENT)

# The dead-letter queue tool: make dlq ARGS="-stack my-relay list" (or
# -local for the stack make dev runs). See README, Operations.
dlq:
	@$(GO) run ./cmd/dlq $(ARGS)

clean:
	rm -rf .aws-sam
