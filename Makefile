# Two commands do all set-up: `make demo` and `make test`. Each builds .venv from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= figures

.PHONY: demo test test-fast lint bench-quick bench bench-gpu clean

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

# the full suite takes about 20 minutes on 2 CPU cores; record its tables in benchmarks/RESULTS.md
bench: $(VENV)/.installed
	$(PY) -m benchmarks.run --suite full --out benchmarks/results-cpu.json --plot benchmarks/scaling-cpu.png

# on a CUDA machine with jax[cuda] installed; needs neither ArviZ nor matplotlib (the plot is
# skipped when matplotlib is missing; make it later with python -m benchmarks.plot)
bench-gpu: $(VENV)/.installed
	JAX_PLATFORMS=cuda $(PY) -m benchmarks.run --suite full --out benchmarks/results-gpu.json --plot benchmarks/scaling-gpu.png

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
