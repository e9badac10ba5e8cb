PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"

demo: $(BIN)/python
	$(BIN)/python examples/wells.py

test: $(BIN)/python
	$(BIN)/python -m pytest -n 2 -q

bench: $(BIN)/python
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info
