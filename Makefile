# The two commands of the README: `make demo` and `make test`. Both create .venv and
# install CoWorks with the pinned versions of constraints.txt on first use. `make bench`
# runs the benchmarks of benchmarks/README.md in full and prints their verdicts;
# `make test` only smoke-tests them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check \
		-c constraints.txt -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python notebooks/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env tests notebooks
	$(BIN)/python benchmarks/lambda_adapter.py --smoke

bench: $(STAMP)
	$(BIN)/python benchmarks/lambda_adapter.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) build
