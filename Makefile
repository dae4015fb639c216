# `make test` runs every check CI runs; `make score TEXT="..."` scores one sentence.
# Every target installs what it needs on a fresh machine.

SHELL := /bin/bash
CARGO ?= cargo
TEXT ?= I bought the pills, tonight's the night

.PHONY: test rust-tests lint docs tools onnxruntime score bench

test: tools lint rust-tests docs

ORT_VERSION := 1.32.0

tools: onnxruntime
	@$(CARGO) nextest --version >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked

# The model runs on ONNX Runtime, installed from PyPI (the library ships inside the wheel).
onnxruntime:
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

score: onnxruntime
	$(CARGO) run -q --release -p safespace-cli -- score "$(TEXT)"

bench: onnxruntime
	bash benches/compare_model.sh
	$(CARGO) bench -p safespace-benches --bench rules
