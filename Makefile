# gizmo — see README.md. Every target works on a fresh clone with only Go
# installed; tests that need the reference parsers, the shared corpus or
# Node skip with a message when they are missing, and fail instead with
# GIZMO_REQUIRE_REFERENCES=1 (.ci/run installs them all and sets it).

GO       ?= go
BIN      ?= bin/gizmo
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
PREFIX   ?= $(HOME)/.local
FUZZTIME ?= 10s
STRESS_TRIALS   ?= 100
STRESS_FUZZTIME ?= 12s
STRESS_SEED     ?= 0
BENCHTIME ?= 1s

.PHONY: all build test vet race bench demo fuzz stress install clean fmt

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/gizmo

# vet, gofmt, go.mod tidy, then every test with the race detector. The CLI
# scripts (cmd/gizmo/testdata/script/*.txtar) run inside `go test ./cmd/gizmo`.
test: vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(GO) test -race -timeout 20m ./...

vet:
	$(GO) vet ./...

# Benchmarks print their figures (README.md's Benchmarks section records the
# last measured ones).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m ./...
	@for s in $$(find . -path ./node_modules -prune -o -name 'bench*.sh' -print | sort); do \
	  echo "== $$s"; GIZMO=$(CURDIR)/$(BIN) bash $$s || exit 1; done

demo: build
	GIZMO=$(CURDIR)/$(BIN) bash internal/scripts/demo.sh

# A short run of every fuzz target (FUZZTIME each).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

# The stress run (about 10 minutes; not part of `make test`): SIGKILL trials
# of sync and prepare against the emulator with its faults on (a third of
# them killed between publishing a file and indexing it, through the test
# hook), the load case (a sync of 2,000 assets beside 16 prepare and 4
# export processes on one cache), the hostile-server tests, and every fuzz
# target for STRESS_FUZZTIME. Prints a table; STRESS_SEED=N replays the
# random choices of an earlier run.
stress: build
	$(GO) run ./internal/stress -gizmo $(CURDIR)/$(BIN) -trials $(STRESS_TRIALS) -fuzztime $(STRESS_FUZZTIME) -seed $(STRESS_SEED)

install:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(PREFIX)/bin/gizmo ./cmd/gizmo
	@echo "installed $(PREFIX)/bin/gizmo"

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo-out
