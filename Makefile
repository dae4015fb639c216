# `make test` runs every check CI runs; `make score TEXT="..."` scores one sentence.
# Every target installs what it needs on a fresh machine.

SHELL := /bin/bash
CARGO ?= cargo
TEXT ?= I bought the pills, tonight's the night

.PHONY: test rust-tests python-tests python-env lint docs tools onnxruntime score bench python-bench

test: tools lint rust-tests python-tests docs

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

# The Python wheel, built and installed into a fresh virtual environment (target/pyenv) with its
# PyPI dependencies, then tested from outside the source tree. PYPROFILE=release for a release build.
PYENV := target/pyenv
PYPROFILE ?= dev
PY_TEST_DEPS := maturin==1.16.0 pytest==9.2.0 pandas==3.1.1 "ray[data]==2.60.0"

python-env:
	@test -x $(PYENV)/bin/python || python3 -m venv $(PYENV)
	@$(PYENV)/bin/pip install --quiet --disable-pip-version-check $(PY_TEST_DEPS)
	rm -rf target/wheels
	$(PYENV)/bin/maturin build --quiet --profile $(PYPROFILE) -m bindings/python/Cargo.toml -o target/wheels
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check --force-reinstall target/wheels/safespace-*.whl

python-tests: python-env
	cd bindings/python && ../../$(PYENV)/bin/python -m pytest -q tests
	cd target && ../$(PYENV)/bin/python -m pytest -q --doctest-modules --pyargs safespace

docs:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

score: onnxruntime
	$(CARGO) run -q --release -p safespace-cli -- score "$(TEXT)"

python-bench: PYPROFILE = release
python-bench: python-env
	$(CARGO) build -q --release -p safespace-cli
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check alt-profanity-check==1.9.1
	$(PYENV)/bin/python benches/python_vs_cli.py

bench: onnxruntime
	bash benches/compare_model.sh
	$(CARGO) bench -p safespace-benches --bench rules
