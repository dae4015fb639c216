# `make test` runs every check CI runs; `make score TEXT="..."` scores one sentence.
# Every target installs what it needs on a fresh machine.

SHELL := /bin/bash
CARGO ?= cargo
TEXT ?= I bought the pills, tonight's the night

.PHONY: test rust-tests lint docs tools score bench

test: tools lint rust-tests docs

ORT_VERSION := 1.32.0

tools:
	@$(CARGO) nextest --version >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked
	@python3 -c "import onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$(ORT_VERSION)')" 2>/dev/null \
		|| python3 -m pip install --quiet --disable-pip-version-check onnxruntime==$(ORT_VERSION)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

rust-tests:
	$(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc
	$(CARGO) run -q -p safespace-examples --example moderation_queue -- examples/posts.jsonl >/dev/null

docs:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

score: tools
	$(CARGO) run -q --release -p safespace-cli -- score "$(TEXT)"

bench:
	$(CARGO) bench -p safespace-benches --bench latency
	$(CARGO) bench -p safespace-benches --bench rules
