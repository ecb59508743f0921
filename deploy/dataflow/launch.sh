#!/usr/bin/env bash
# Builds the newsbeam Dataflow flex template and runs it.
#
# STATUS: written, never run on Dataflow (no GCP project on the development machine). INPUT and
# OUTPUT are gs:// paths: the workers write the Parquet files straight under OUTPUT and the job's
# last step commits them to the lake's Delta tables (and writes OUTPUT/run.json), so nothing needs a
# disk shared with the launcher. The template's launcher (launcher.py) returns once the job is
# handed to Dataflow; follow the job in the Dataflow console, then read OUTPUT/run.json.
# The worker service account needs to list and read objects under INPUT, and to list, create and
# delete objects under OUTPUT (a rerun deletes the files it replaced), e.g. roles/storage.objectAdmin
# on the output bucket; the launcher checks INPUT and OUTPUT before it submits, so the account it
# runs as needs read access too. See deploy/README.md "Dataflow".
#
# usage:
#   deploy/dataflow/launch.sh build                 wheel, both images, push, flex-template spec
#   deploy/dataflow/launch.sh run INPUT OUTPUT [KEY=VALUE ...]
#       e.g. run gs://BUCKET/raw/dt=2025-03-12 gs://BUCKET/newsbeam date=2025-03-12 ner-batch-size=64
#       (a gs:// prefix reads every object below it; a glob such as 'gs://BUCKET/raw/dt=2025-03-12/*.jsonl' also works)
#
# environment (required): PROJECT, REGION, BUCKET (a gs:// bucket name, no prefix)
# optional: REPOSITORY (Artifact Registry Docker repository, default newsbeam), VERSION (default 0.1.0),
#           SERVICE_ACCOUNT (worker service account e-mail), MAX_WORKERS (default 4),
#           PYTHON (builds the wheel; default .venv/bin/python, else python3)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
: "${PROJECT:?set PROJECT to the GCP project id}"
: "${REGION:?set REGION, e.g. europe-west1}"
: "${BUCKET:?set BUCKET to a GCS bucket name for the template, staging and temp files}"
repository="${REPOSITORY:-newsbeam}"
version="${VERSION:-0.1.0}"
registry="$REGION-docker.pkg.dev/$PROJECT/$repository"
launcher_image="$registry/launcher:$version"
worker_image="$registry/worker:$version"
template="gs://$BUCKET/templates/newsbeam-$version.json"
if [ -x "$repo/.venv/bin/python" ]; then python="${PYTHON:-$repo/.venv/bin/python}"; else python="${PYTHON:-python3}"; fi

build() {
  cd "$repo"
  rm -f dist/newsbeam-*.whl   # both Dockerfiles want exactly one newsbeam wheel in dist/
  "$python" -m pip wheel --quiet --no-deps -w dist .
  # Workers: Beam's SDK image with newsbeam and the models. Launcher: Google's template launcher base.
  docker build -f deploy/container/Dockerfile -t "$worker_image" .
  docker build -f deploy/dataflow/Dockerfile -t "$launcher_image" .
  gcloud auth configure-docker "$REGION-docker.pkg.dev" --quiet
  docker push "$worker_image"
  docker push "$launcher_image"
  gcloud dataflow flex-template build "$template" \
    --project="$PROJECT" \
    --image="$launcher_image" \
    --sdk-language=PYTHON \
    --metadata-file="$here/metadata.json"
  echo "launch: template spec at $template" >&2
}

run() {
  if [ $# -lt 2 ]; then
    echo "usage: $0 run INPUT OUTPUT [KEY=VALUE ...]" >&2
    exit 2
  fi
  local input="$1" output="$2" extra params path
  shift 2
  # A local path would name a folder on the launcher VM or on each worker VM: refuse it here.
  for path in "$input" "$output"; do
    if [[ ! "$path" =~ ^[a-z][a-z0-9+.-]*://. ]]; then
      echo "launch: INPUT and OUTPUT must be object-store URLs such as gs://BUCKET/..., got: $path" >&2
      exit 2
    fi
  done
  # The parameters are joined with a separator that cannot occur in them ("^|^" switches gcloud's
  # list separator to "|"), because globs and values like en=... contain "," or "=".
  params="^|^input=$input|output=$output|sdk_container_image=$worker_image"
  for extra in "$@"; do
    params+="|$extra"
  done
  gcloud dataflow flex-template run "newsbeam-$(date -u +%Y%m%d-%H%M%S)" \
    --project="$PROJECT" \
    --region="$REGION" \
    --template-file-gcs-location="$template" \
    --temp-location="gs://$BUCKET/temp" \
    --staging-location="gs://$BUCKET/staging" \
    --max-workers="${MAX_WORKERS:-4}" \
    ${SERVICE_ACCOUNT:+--service-account-email="$SERVICE_ACCOUNT"} \
    --parameters="$params"
}

case "${1:-}" in
  build) shift; build "$@" ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 build | run INPUT OUTPUT [KEY=VALUE ...]" >&2; exit 2 ;;
esac
