# sts-audit developer targets. `make demo` and `make test` are the README's two set-up commands.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test check lint install install-dev bench bench-quick bench-simulate bench-files bench-export

$(BIN)/python:
	$(PY) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,spark]'

# The main job on the committed sample corpus: ingest into ./lake, then analyze.
demo: install
	$(BIN)/sts-audit run sample_data/AWSLogs --lake lake

lint: install-dev
	$(BIN)/ruff check pipeline tests bench
	$(BIN)/mypy pipeline

# Install, lint, type-check, and run every test and the notebooks (what CI runs).
test: lint
	$(BIN)/pytest -q -n 2 tests --nbmake notebooks

check: test

# Benchmark: corpora of 1M, 2M and 5M events (cached in bench/.cache/), 3 runs per step.
bench: install-dev
	$(BIN)/python -m bench.run --sizes 1000000,2000000,5000000 --repeat 3

# The same table on 200k and 500k events, in a few minutes, into bench/.cache/: BENCHMARKS.md
# stays the record of the full run.
bench-quick: install-dev
	$(BIN)/python -m bench.run --sizes 200000,500000 --repeat 3 --output bench/.cache/BENCHMARKS-quick.md

# The simulator's own target: 5,000,000 events in under 5 minutes (one fresh run).
bench-simulate: install-dev
	$(BIN)/python -m bench.simulate_speed --events 5000000

# Ingest memory by number of files (100k, 400k, 1.2M empty digest files): under 1 GiB.
bench-files: install-dev
	$(BIN)/python -m bench.many_files --files 100000,400000,1200000

bench-export: install-dev
	$(BIN)/python -m bench.big_export --records 1000000,2000000
	$(BIN)/python -m bench.big_export --records 1000000 --shapes lookup-events,records
