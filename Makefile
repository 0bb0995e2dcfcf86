# Two commands for a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment and installs what it needs if missing.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo demo-quick test test-fast lint benchmark

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# TensorFlow's log lines go to a file (the demo sends them there); set
# KERAS_ROLEPLAY_TF_LOGS=1 to see them.
demo: $(STAMP)
	$(PYTHON) -m keras_roleplay.demo

demo-quick: $(STAMP)
	$(PYTHON) -m keras_roleplay.demo --quick

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Two pytest-xdist workers (the CI machine has two cores), each test module
# (or class) whole on one worker, so a model its tests share is trained once;
# tests/conftest.py puts the slow ones first. Measured on a clean clone:
# 24.7 minutes (27 with the install) on 2 cores of an Intel Xeon, 430 tests;
# 25.5 on 2 cores of an AMD EPYC at 412 tests; 67 in one process before the
# tutorials ran small.
WORKERS := -n 2 --dist loadscope --no-loadscope-reorder

test: lint
	$(PYTHON) -m pytest $(WORKERS)

test-fast: $(STAMP)
	$(PYTHON) -m pytest $(WORKERS) -m "not slow"

benchmark: $(STAMP)
	$(PYTHON) benchmarks/three_branch.py
	$(PYTHON) benchmarks/three_branch_ablation.py
	$(PYTHON) benchmarks/captioner.py
	$(PYTHON) benchmarks/role_responder.py
	$(PYTHON) benchmarks/backends.py
	$(PYTHON) benchmarks/mixed_precision.py
	$(PYTHON) benchmarks/image_folder_memory.py
	$(PYTHON) benchmarks/quantization.py
	$(PYTHON) benchmarks/generate_soak.py
