# Two commands do all set-up: `make demo` and `make test`. Each builds .venv from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= figures

.PHONY: demo test test-fast lint bench-quick bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) examples/demo.py --out $(OUT)

test: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) -m pytest -q -n 2 --dist loadfile

test-fast: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) -m pytest -q -m "not slow"

lint: $(VENV)/.installed
	$(PY) -m ruff check bnn tests examples benchmarks

bench-quick: $(VENV)/.installed
	$(PY) -m benchmarks.run --suite quick --out benchmarks/results-quick.json

bench: $(VENV)/.installed
	$(PY) -m benchmarks.run --suite full --out benchmarks/results-cpu.json

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
