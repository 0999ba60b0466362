# aplus-sim: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
SDK_VENV := .venv-sdk
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
SIM_PORT ?= 8360
WALLET_PORT ?= 8361
DATA_DIR ?= .aplus-sim
CLOCK ?= real

.PHONY: run test test-fast lint format install sdk browser clean bench wrk

# Start the simulator, the reference wallet and the merchant demo page (SQLite in $(DATA_DIR)).
run: $(VENV)/.installed
	$(BIN)/aplus-sim demo --host $(HOST) --sim-port $(SIM_PORT) --wallet-port $(WALLET_PORT) --data-dir $(DATA_DIR) --clock $(CLOCK)

# Lint, format check and the whole suite (unit, property, end-to-end, SDK interop, browser).
test: $(VENV)/.installed $(SDK_VENV)/.installed browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 -q

# The inner loop: everything but the slow, browser and SDK tests (see tests/conftest.py).
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -n 2 -q -m "not slow and not browser and not sdk"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# The official Ant International Python SDK, kept apart: it pins its own cryptography.
sdk: $(SDK_VENV)/.installed
$(SDK_VENV)/.installed:
	test -x $(SDK_VENV)/bin/python || $(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'global-open-sdk-python==1.7.1'
	touch $@

# Debian's Chromium for the browser tests (never a downloaded browser build), and Debian's
# Noto CJK fonts so that Korean, Japanese and Chinese names render in its screenshots.
browser:
	@(test -x /usr/bin/chromium && dpkg -s fonts-noto-cjk >/dev/null 2>&1) || \
		(command -v apt-get >/dev/null && \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) || \
		echo "make: could not install Debian's chromium and fonts-noto-cjk; browser tests will be skipped")

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every benchmark, bench/compare.py included; wrk (Debian) and pyinstrument (for
# bench/bench_request_path.py --profile) are installed when missing, never as package deps.
bench: $(VENV)/.installed wrk
	@$(BIN)/python -c "import pyinstrument" 2>/dev/null || \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check pyinstrument
	$(BIN)/python bench/run_all.py

# Debian's wrk, the load generator of bench/compare.py (it falls back to a Python client).
wrk:
	@command -v wrk >/dev/null || (command -v apt-get >/dev/null && \
		(apt-get update -qq && apt-get install -y -qq wrk >/dev/null) || \
		echo "make: could not install Debian's wrk; bench/compare.py will use its Python client")

clean:
	rm -rf $(VENV) $(SDK_VENV) $(DATA_DIR) .pytest_cache .ruff_cache .hypothesis
