# Resonance webhook relay. `make help` lists the targets.

FUNCTIONS := ShopifyWebhookFunction StripeWebhookFunction ZupyWebhookFunction LoyaltyNowWebhookFunction CustomWebhookFunction \
             WooCommerceWebhookFunction SquareWebhookFunction HmacWebhookFunction ForwarderFunction ReleaserFunction
# Logical id -> package under functions/ (TestMakefile checks both lists
# against the provider specs).
pkg_ShopifyWebhookFunction    := shopify
pkg_StripeWebhookFunction     := stripe
pkg_ZupyWebhookFunction       := zupy
pkg_LoyaltyNowWebhookFunction := loyaltynow
pkg_CustomWebhookFunction     := custom
pkg_WooCommerceWebhookFunction := woocommerce
pkg_SquareWebhookFunction     := square
pkg_HmacWebhookFunction       := hmac
pkg_ForwarderFunction         := forwarder
pkg_ReleaserFunction          := releaser

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

# The folders where pip puts programs (the interpreter's scripts folder and
# the user one, ~/.local/bin on Linux) and Go's, so that tools installed there
# are found without changing the user's PATH.
PIP_BINS := $(shell python3 -c 'import site, sysconfig; print(sysconfig.get_path("scripts") + ":" + site.getuserbase() + "/bin")' 2>/dev/null)
export PATH := $(PATH):$(PIP_BINS):$(HOME)/.local/bin:$(shell $(GO) env GOPATH 2>/dev/null)/bin
# Small tools are built and run (not go run, which adds its own "exit status"),
# with exec, so that make is their parent: make dev stops when make is killed.
TOOL  = $(GO) build -o .aws-sam/tools/$(1) ./cmd/$(1) && exec .aws-sam/tools/$(1)
SETUP = @$(call TOOL,setup)

.PHONY: help setup tools build test test-go lint fuzz bench events clean dev send invoke e2e coldstart cost bench-table dlq rewards deploy $(addprefix build-,$(FUNCTIONS))

help:
	@echo "make dev     the whole pipeline on 127.0.0.1:\$$PORT (3000) with moto and a local Resonance sandbox (V=1: JSON logs too)"
	@echo "make test    everything CI runs: lint, unit and integration tests, the e2e fault test, build and size check"
	@echo "make setup   only install what the targets need (moto_server, cfn-lint, Go modules); dev and test do it themselves"
	@echo "make send    sign and post every genuine sample to BASE_URL (default the local stack)"
	@echo "make invoke FUNCTION=<LogicalId> EVENT=<file>   run a bootstrap under a local Lambda Runtime API"
	@echo "make e2e     the end-to-end fault test (part of make test)"
	@echo "make build   one bootstrap per function under $(BUILD_DIR)/<LogicalId>/"
	@echo "make lint    gofmt, go vet, cfn-lint template.yaml"
	@echo "make fuzz    each fuzz target for FUZZTIME (default $(FUZZTIME))"
	@echo "make bench   verifiers and ingest beside bare HMAC, a forwarder batch beside one call (interleaved rounds)"
	@echo "make events  freshly signed copies of the samples under .aws-sam/events/ (for sam local invoke -e)"
	@echo "make cost    the cost per million webhooks at 1, 10 and 100 million a month, into README.md (MEASURE=1: log bytes measured again)"
	@echo "make dlq ARGS=\"-stack NAME list\"   review, show, replay, redrive or delete dead letters (-local for make dev's)"
	@echo "make rewards ARGS=\"-stack NAME held\"   read the ledger: order ID, customer EMAIL, held, refunded, summary FROM TO (-local, -json)"
	@echo "make deploy  check the SAM CLI, AWS credentials and region, then sam build and sam deploy"

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
	$(SETUP)

lint:
	$(SETUP) -need cfn-lint
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change: $$out" >&2; exit 1; fi
	$(GO) vet ./...
	cfn-lint template.yaml
	@# ... and as deployed with the other front (Front=FunctionUrl).
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
		sed 's/^    Default: HttpApi$$/    Default: FunctionUrl/' template.yaml > $$tmp/template.yaml; \
		grep -q '^    Default: FunctionUrl$$' $$tmp/template.yaml && cfn-lint $$tmp/template.yaml && echo "cfn-lint template.yaml (Front=FunctionUrl)"

test-go:
	$(SETUP) -need moto
	$(GO) test -race -count=1 -timeout 30m ./...

# The end-to-end fault test: 1,300 webhooks through the local stack into a
# faulty Resonance (a minute on a quiet 2-core machine, longer on a busy
# one). It prints progress every 5 s and ends with the e2e: summary line; it
# fails when nothing has moved for E2E_STALL (3m), with a report, not at a
# fixed time. The -timeout is only a backstop.
e2e:
	$(SETUP) -need moto
	E2E_OWNER=$$PPID $(GO) test -tags e2e -count=1 -v -run '^TestE2E$$' -timeout 80m ./shared/local/devstack/

# In order (prerequisites run left to right), in this make: no sub-make that
# would outlive a killed make.
test: tools lint test-go e2e build

tools:
	$(SETUP)

# Every target runs, even after one fails; the failures are listed at the end.
# Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" as -fuzztime ends, having found nothing (golang/go#75804,
# fixed in Go 1.27): such a run, with no failing input written, is run again
# (twice at most); a real finding always writes its input first.
fuzz:
	@failed=""; out=$$(mktemp); trap 'rm -f $$out' EXIT; for p in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
			for try in 1 2 3; do \
				echo "$$p $$f"; \
				if $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p >$$out 2>&1; then cat $$out; break; fi; \
				cat $$out; \
				if [ $$try -lt 3 ] && grep -q 'context deadline exceeded' $$out && ! grep -q 'Failing input written' $$out; then \
					echo "fuzz: $$f: the coordinator's deadline race (golang/go#75804), nothing found: running it again"; continue; \
				fi; \
				failed="$$failed $$p.$$f"; break; \
			done; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed (the failing inputs are under each package's testdata/fuzz/)" >&2; exit 1; fi

# SAVE=quiet or SAVE=busy keeps the output for the README's table
# (make bench-table renders it from both).
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 1x ./shared/providers/ ./shared/ingest/ ./shared/forward/ \
		$(if $(SAVE),| tee cmd/benchratio/testdata/$(SAVE).txt) | $(GO) run ./cmd/benchratio

bench-table:
	$(GO) run ./cmd/benchratio -table cmd/benchratio/testdata/quiet.txt,cmd/benchratio/testdata/busy.txt -write README.md

events:
	@$(call TOOL,sign-events) -out .aws-sam/events

coldstart:
	@$(call TOOL,coldstart) $(if $(RUNS),-runs $(RUNS))

cost:
	@$(call TOOL,cost) $(if $(MEASURE),-measure) -write

dev:
	$(SETUP) -need moto
	@$(call TOOL,dev) $(if $(V),-v)

send:
	@$(call TOOL,send) $(if $(BASE_URL),-base $(BASE_URL),$(if $(PORT),-base http://127.0.0.1:$(PORT)))

# The same build as sam build's, for this machine's architecture so that it
# runs here (Lambda runs the arm64 one).
invoke:
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=<file>" >&2; echo "functions: $(FUNCTIONS)" >&2; exit 2; }
	@test -n "$(filter $(FUNCTION),$(FUNCTIONS))" || { echo "make invoke: no function $(FUNCTION); the functions are:" >&2; for f in $(FUNCTIONS); do echo "  $$f" >&2; done; exit 2; }
	@test -f "$(EVENT)" || { echo "make invoke: no event file $(EVENT); $(FUNCTION)'s samples are:" >&2; ls events/$(FUNCTION)/*.json 2>/dev/null | sed 's/^/  /' >&2; exit 2; }
	@$(MAKE) --no-print-directory build-$(FUNCTION) ARTIFACTS_DIR=$(CURDIR)/.aws-sam/invoke/$(FUNCTION) LAMBDA_ARCH=$$($(GO) env GOARCH) >/dev/null
	@$(call TOOL,invoke) -function $(FUNCTION) -event $(EVENT)

# The dead-letter queue tool: make dlq ARGS="-stack my-relay list" (or
# -local for the stack make dev runs). See README, Operations.
dlq:
	@$(call TOOL,dlq) $(ARGS)

# The ledger, read only: make rewards ARGS="-stack my-relay summary
# 2026-11-01 2026-11-07" (or -local). See README, Operations.
rewards:
	@$(call TOOL,rewards) $(ARGS)

# Checks what sam deploy needs before anything is created, then builds and
# deploys (guided the first time; samconfig.toml remembers the answers).
deploy:
	@$(call TOOL,deploy-check)
	sam build
	@if [ -f samconfig.toml ]; then echo "sam deploy (answers from samconfig.toml; sam deploy --guided to change them)"; sam deploy; else sam deploy --guided; fi

clean:
	rm -rf .aws-sam
