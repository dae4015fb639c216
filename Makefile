# `make test` runs every check CI runs; `make score TEXT="..."` scores one sentence.
# Every target installs what it needs on a fresh machine.

SHELL := /bin/bash
CARGO ?= cargo
TEXT ?= I bought the pills, tonight's the night

.PHONY: test rust-tests lint docs tools score bench

test: tools lint rust-tests docs

tools:
	@$(CARGO) nextest --version >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

rust-tests:
	$(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc
	$(CARGO) run -q -p safespace-examples --example moderation_queue -- examples/posts.jsonl >/dev/null

docs:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

score:
	$(CARGO) run -q --release -p safespace-cli -- score "$(TEXT)"

bench:
	$(CARGO) bench -p safespace-benches --bench latency
	$(CARGO) bench -p safespace-benches --bench rules
