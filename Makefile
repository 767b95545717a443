# goldsmith: the README's two commands are `make demo` and `make test`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA ?= ../shared/data/healthcare/medical_abstracts/medical_tc_test.csv
PYTEST_ARGS ?=

.PHONY: all .venv demo test lint format bench docs clean

all: test

# Bootstrap the virtualenv with the dev extras; reinstalls only when pyproject.toml changes.
.venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,ray,train]'
	touch $@

demo: .venv
	rm -rf demo-out
	$(BIN)/goldsmith demo --data $(DEMO_DATA) --workdir demo-out

# The real local LLM of the slow tests (llama-cpp-python + SmolLM2); its wheel is compiled
# once (~7 min on 2 cores) into ~/.cache/goldsmith/wheels and reused.
LLAMA_STAMP := $(VENV)/.llama-installed
$(LLAMA_STAMP): $(STAMP) scripts/llama_wheel.sh
	scripts/llama_wheel.sh $(VENV)
	touch $@

# Every marker except gpu: slow, browser and postgres tests run here and in CI.
test: .venv $(LLAMA_STAMP)
	$(BIN)/pytest -m "not gpu" $(PYTEST_ARGS)

lint: .venv
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

format: .venv
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

# 1M-row import/export against the pandas anchor; figures go into bench/RESULTS.md.
bench: .venv
	$(BIN)/python bench/import_export.py

# Regenerate the CLI reference from --help; tests/test_docs.py checks it is current.
docs: .venv
	$(BIN)/python scripts/gen_cli_docs.py

clean:
	rm -rf demo-out out .pytest_cache .mypy_cache .ruff_cache
