# logtriage: build, test and check.
GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 60s
BENCHTIME   ?= 1s

# Every native fuzz target, as package:Target.
FUZZ_TARGETS := \
	./parser:FuzzNginx ./parser:FuzzApache24 ./parser:FuzzApache22 \
	./parser:FuzzFPM ./parser:FuzzFPMSlow ./parser:FuzzAuto \
	./parser:FuzzNginxSearches ./rules:FuzzLoad ./rules:FuzzMatchDifferential ./rules:FuzzSimple ./report:FuzzIncidentJSON \
	./spool:FuzzDecode

.PHONY: all build test check fmt vet staticcheck race tidy fuzz bench clean

all: check build

## build: a static binary in bin/logtriage
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/logtriage ./cmd/logtriage

## test: the whole test suite, with the race detector
test:
	$(GO) test -race -count=1 ./...

## check: formatting, vet, staticcheck, race tests, tidy go.mod
check: fmt vet staticcheck race tidy

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

race:
	$(GO) test -race -count=1 ./...

tidy:
	$(GO) mod tidy -diff

## fuzz: run each fuzz target for FUZZTIME (default 60s; CI a count, 10000x)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME); \
	done

## bench: Go benchmarks with ns/line and allocs/line figures
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

clean:
	rm -rf bin

## bench-e2e: end-to-end benchmark on generated logs, against grep and gzip -dc
## (LINES lines of nginx log, REPS runs each, BIG=1 adds a 1 GB peak-RSS step,
## CPUPROFILE=file adds a CPU profile of the analyze pipeline via go test)
LINES ?= 1000000
REPS  ?= 3
BIG   ?= 0
.PHONY: bench-e2e
bench-e2e: build
	$(GO) run ./bench/run -build=false -lines $(LINES) -reps $(REPS) -big=$(if $(filter 1 yes true,$(BIG)),true,false) $(if $(CPUPROFILE),-cpuprofile $(CPUPROFILE))

## pgo: cmd/logtriage/default.pgo, the CPU profile go build optimizes the
## binary with (profile-guided optimization): analyze over the benchmark's
## logs, plain and .gz, PGORUNS times each. Rerun after changing the hot path.
PGORUNS ?= 5
.PHONY: pgo
pgo: build
	$(GO) run ./bench/run -build=false -lines $(LINES) -reps $(PGORUNS) -pgo cmd/logtriage/default.pgo

## screenshot: screenshots/report.png, Chromium's rendering of the HTML report
## of a corpus scenario (SCENARIO=nginx-04-fpm-saturated), to review the design
SCENARIO ?= nginx-04-fpm-saturated
CHROMIUM ?= chromium
.PHONY: screenshot
screenshot: build
	@mkdir -p screenshots
	bin/logtriage analyze --tz UTC --format html -o screenshots/report.html testdata/corpus/$(SCENARIO)/*.log; test $$? -le 1
	rm -rf screenshots/.profile
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --hide-scrollbars --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir=$(CURDIR)/screenshots/.profile \
		--window-size=1000,2400 --screenshot=$(CURDIR)/screenshots/report.png file://$(CURDIR)/screenshots/report.html 2>/dev/null
	@rm -rf screenshots/.profile
	@echo "wrote screenshots/report.png (from screenshots/report.html)"
