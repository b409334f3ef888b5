# posture - set up, run the demo, test, benchmark. Every target bootstraps what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-noto-cjk poppler-utils
BROWSER_PACKAGES := chromium
BENCH_SCALE ?= 20

.PHONY: demo test lint format bench bench-report system-deps browser-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -e '.[dev]' \
	  || $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Fonts and tools for the PDF report (Japanese glyphs, fast font subsetting, pdftotext).
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages: $$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	      || echo "WARNING: could not install $$missing; PDF reports may lack Japanese glyphs and PDF tests will fail"; \
	  else \
	    echo "WARNING: missing system packages: $$missing"; \
	    echo "  install them with: sudo apt-get install --no-install-recommends $$missing"; \
	    echo "  (without them PDF rendering is slow, Japanese text may not render and pdftotext-based tests fail)"; \
	  fi; \
	fi

# Headless Chromium for the browser measurements (Playwright drives the system's Chromium).
browser-deps:
	@$(MAKE) --no-print-directory system-deps SYSTEM_PACKAGES="$(BROWSER_PACKAGES)"

demo: $(STAMP) system-deps
	$(BIN)/posture demo --out out

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: $(STAMP) system-deps lint
	$(BIN)/posture policies validate
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: $(STAMP) system-deps
	$(BIN)/python bench/scan_bench.py --scale $(BENCH_SCALE)

bench-report: $(STAMP) system-deps browser-deps
	$(BIN)/python bench/report_bench.py --findings 5000
	$(BIN)/python bench/report_bench.py --findings 100000 --formats html

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
