# Thin wrapper so the README can say two commands. The real build is meson.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Seconds per fuzz target: a short run in `make check`, a long one in `make fuzz`.
FUZZ_CHECK_SECONDS ?= 6
FUZZ_SECONDS ?= 600
MESON_TEST_ARGS ?= --print-errorlogs

.PHONY: all deps build check check-plain check-asan check-fuzz fuzz demo bench reliability deb clean

all: build

deps:
	@./packaging/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

check: deps
	@status=0; \
	$(MAKE) --no-print-directory check-plain || status=1; \
	$(MAKE) --no-print-directory check-asan || status=1; \
	$(MAKE) --no-print-directory check-fuzz || status=1; \
	./tests/summary $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) || status=1; \
	exit $$status

check-plain: $(BUILD)/build.ninja
	meson compile -C $(BUILD)
	meson test -C $(BUILD) $(MESON_TEST_ARGS) --no-suite slow

check-asan: $(ASAN_BUILD)/build.ninja
	meson compile -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) $(MESON_TEST_ARGS) --no-suite slow --no-suite nosan

# libFuzzer targets (tests/fuzz) in their own clang build, each run for a
# bounded time on a copy of its checked-in corpus; skipped without clang.
check-fuzz:
	./tests/fuzz/run-fuzz --seconds $(FUZZ_CHECK_SECONDS) $(FUZZ_BUILD)

fuzz:
	./tests/fuzz/run-fuzz --seconds $(FUZZ_SECONDS) --keep-corpus $(FUZZ_BUILD)

demo: build
	python3 tests/demo/demo.py $(BUILD)

bench: build
	meson test -C $(BUILD) --benchmark --verbose

# The long forms of the fault harnesses (tests/reliability) and the fuzz
# targets, then the table of their figures; UPDATE_README=1 puts it in
# README.md. Not part of check: it takes about half an hour.
RELIABILITY_FUZZ_SECONDS ?= 60
reliability: build
	./tests/reliability/run-reliability $(BUILD) $(FUZZ_BUILD) $(RELIABILITY_FUZZ_SECONDS) $(if $(UPDATE_README),--readme)

# The Debian packages (retas-kit, retas-hq, retas-common) in build-deb/,
# their contents checked and lintian run. Not part of check.
deb: deps
	./packaging/build-deb build-deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-deb
