# shellcheck shell=bash
# The mechanics shared by deploy/flink/submit.sh and deploy/spark/submit.sh. Sourced by them (after
# `set -euo pipefail`), not run on its own. Each of them runs newsbeam through a Beam job server
# (PortableRunner), with the Python SDK workers in a worker pool (EXTERNAL environment) and newsbeam
# staged to them as a wheel. The engine script reads its own settings, checks its job-server jar and
# says how to start the job server; the rest is here:
#
#   init_state NAME          a state folder for logs and the wheel (${TMPDIR:-/tmp}/newsbeam-NAME.XXXXXX),
#                            and the EXIT trap that stops what was started and names that folder
#   build_wheel              builds the newsbeam wheel into the state folder; sets $wheel
#   start_job_server CMD...  runs CMD in the background (log: job-server.log), waits for $job_port
#   start_worker_pool        starts the SDK worker pool on $pool_port as WORKER_POOL says
#   run_newsbeam_portable ENGINE [FLAG...] -- [ARG...]
#                            `newsbeam run ARG...` with the PortableRunner/EXTERNAL flags, FLAG..., the
#                            --s3_* flags from S3_* (below) and --extra_package=$wheel; exits with
#                            newsbeam's status
#   wait_for_port PORT PID NAME
#
# Sourcing it reads the settings common to both engines (described in their headers): JOB_PORT,
# ARTIFACT_PORT, EXPANSION_PORT, ARTIFACTS_DIR, WORKER_POOL, WORKER_IMAGE, DATA_DIRS, RUNNERS_CACHE,
# NEWSBEAM, PYTHON and the S3 settings. It starts nothing.
#
# Input and output are meant to be object-store URLs (s3://, gs://): the workers write the Parquet
# files straight to the store and the job's last step publishes them, so no disk is shared between
# the launcher and the workers. S3 settings, each passed to newsbeam as the Beam flag named beside
# it when set (the flags travel with the pipeline to every worker):
#   S3_ENDPOINT_URL -> --s3_endpoint_url (MinIO, Ceph, ...; unset for AWS)   S3_REGION_NAME -> --s3_region_name
#   S3_ACCESS_KEY_ID -> --s3_access_key_id        S3_SECRET_ACCESS_KEY -> --s3_secret_access_key
# Flags are part of the job's options, which the job server and the engine keep and may show. To
# keep the key out of them, leave S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY unset and give the launcher
# and every worker boto3's own settings instead (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_SESSION_TOKEN, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3, or an instance/pod role). gs:// needs
# Google application default credentials on the launcher and every worker. The worker pools this
# script starts get the AWS_* variables and GOOGLE_APPLICATION_CREDENTIALS set here.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

job_port="${JOB_PORT:-8099}"
artifact_port="${ARTIFACT_PORT:-8098}"
# shellcheck disable=SC2034  # used in the engine scripts' job-server command
expansion_port="${EXPANSION_PORT:-8097}"
# shellcheck disable=SC2034  # used in the engine scripts' job-server command
artifacts_dir="${ARTIFACTS_DIR:-/tmp/beam-artifact-staging}"
worker_pool="${WORKER_POOL:-docker}"
worker_image="${WORKER_IMAGE:-newsbeam-worker:0.1.0}"
data_dirs="${DATA_DIRS:-}"   # local folders for the docker worker pool; none needed for s3:// or gs://
runners_cache="${RUNNERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/newsbeam/beam-2.77.0}"
pool_port=50000   # Beam's boot program starts its worker pool on this port

if [ -x "$repo/.venv/bin/newsbeam" ]; then
  newsbeam="${NEWSBEAM:-$repo/.venv/bin/newsbeam}"
  python="${PYTHON:-$repo/.venv/bin/python}"
else
  newsbeam="${NEWSBEAM:-newsbeam}"
  python="${PYTHON:-python3}"
fi

state=""
pids=()
pool_container=""
wheel=""

init_state() {  # init_state NAME: the state folder, and the cleanup when the script exits
  state="$(mktemp -d "${TMPDIR:-/tmp}/newsbeam-$1.XXXXXX")"
  trap cleanup EXIT
}

# shellcheck disable=SC2329  # run by the EXIT trap
cleanup() {
  local pid
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$pool_container" ]; then
    docker stop "$pool_container" >/dev/null 2>&1 || true
  fi
  echo "submit: logs kept in $state" >&2
}

wait_for_port() {  # wait_for_port PORT PID NAME: until something listens on localhost:PORT
  local port="$1" pid="$2" name="$3" _
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "submit: $name exited before listening on port $port; see $state/$name.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "submit: nothing listening on port $port after 120 s ($name); see $state/$name.log" >&2
  exit 1
}

# The wheel that the workers install. Built into the state folder, so the checkout is not touched
# beyond pip's own build/ folder.
build_wheel() {
  echo "submit: building the newsbeam wheel" >&2
  "$python" -m pip wheel --quiet --no-deps -w "$state/dist" "$repo"
  wheel="$(ls "$state"/dist/newsbeam-*.whl)"
}

start_job_server() {  # start_job_server COMMAND...: the job server, in the background
  "$@" > "$state/job-server.log" 2>&1 &
  pids+=("$!")
  wait_for_port "$job_port" "$!" job-server
}

# Object-store credentials for a worker pool container: the AWS_* variables boto3 reads, passed on
# by name when set here, and Google's credentials file mounted read-only at the same path.
store_access_for_docker() {
  local name
  for name in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_REGION \
              AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE GOOGLE_CLOUD_PROJECT; do
    if [ -n "${!name:-}" ]; then
      docker_args+=(-e "$name")
    fi
  done
  if [ -n "${GOOGLE_APPLICATION_CREDENTIALS:-}" ]; then
    docker_args+=(-v "$GOOGLE_APPLICATION_CREDENTIALS:$GOOGLE_APPLICATION_CREDENTIALS:ro" -e GOOGLE_APPLICATION_CREDENTIALS)
  fi
}

# The SDK worker pool.
start_worker_pool() {
  local dir need
  local -a docker_args=()
  case "$worker_pool" in
    docker)
      pool_container="newsbeam-pool-$$"
      for dir in $data_dirs; do
        docker_args+=(-v "$dir:$dir")
      done
      store_access_for_docker
      echo "submit: starting worker pool container $worker_image" >&2
      docker run --rm --detach --name "$pool_container" --network host ${docker_args[@]+"${docker_args[@]}"} \
        "$worker_image" --worker_pool > "$state/worker-pool.id"
      (docker logs --follow "$pool_container" > "$state/worker-pool.log" 2>&1 &)
      wait_for_port "$pool_port" "" worker-pool
      ;;
    local)
      # As tests/test_runners.py does: Beam's boot program pip-installs the staged wheel into this
      # environment, which must therefore be one used for nothing else.
      for need in python-boot worker-venv/bin/python; do
        [ -e "$runners_cache/$need" ] || { echo "submit: $runners_cache/$need missing: run 'make runners'" >&2; exit 3; }
      done
      echo "submit: starting the local worker pool" >&2
      (cd "$state" && exec env -u PYTHONPATH PATH="$runners_cache/worker-venv/bin:$PATH" \
        RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT=1 \
        "$runners_cache/worker-venv/bin/python" -m apache_beam.runners.worker.worker_pool_main \
        --service_port="$pool_port" --container_executable="$runners_cache/python-boot" \
        > "$state/worker-pool.log" 2>&1) &
      pids+=("$!")
      wait_for_port "$pool_port" "$!" worker-pool
      ;;
    none) ;;
    *) echo "submit: WORKER_POOL must be docker, local or none, not '$worker_pool'" >&2; exit 2 ;;
  esac
}

# The --s3_* flags from the S3_* settings that are set.
s3_flags() {
  local setting flag
  s3=()
  for setting in S3_ENDPOINT_URL:s3_endpoint_url S3_REGION_NAME:s3_region_name \
                 S3_ACCESS_KEY_ID:s3_access_key_id S3_SECRET_ACCESS_KEY:s3_secret_access_key; do
    flag="${setting#*:}"
    setting="${setting%%:*}"
    if [ -n "${!setting:-}" ]; then
      s3+=("--$flag=${!setting}")
    fi
  done
}

# A local --input or --output works only where every worker sees the same folder at the same path
# (a one-machine cluster, or a folder mounted everywhere): say so, without refusing it.
note_local_paths() {  # note_local_paths ARG...: the newsbeam arguments
  local arg flag=""
  for arg in "$@"; do
    case "$arg" in
      --input=*|--output=*) flag="${arg%%=*}"; arg="${arg#*=}" ;;
      --input|--output) flag="$arg"; continue ;;
      --*) flag=""; continue ;;
    esac
    if [ -n "$flag" ] && [[ ! "$arg" =~ ^[a-zA-Z][a-zA-Z0-9+.-]*:// ]]; then
      echo "submit: note: $flag $arg is a local path; every worker must see it at that path (use s3:// or gs:// on a cluster)" >&2
    fi
    if [ "$flag" = "--output" ]; then
      flag=""
    fi
  done
}

# The job. newsbeam waits for it to finish and exits 0 only when its counts reconcile; the script
# exits with newsbeam's status (and the EXIT trap cleans up).
run_newsbeam_portable() {  # run_newsbeam_portable ENGINE [FLAG...] -- [ARG...]
  local engine="$1" status
  local -a engine_flags=() s3=()
  shift
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    engine_flags+=("$1")
    shift
  done
  if [ $# -gt 0 ]; then
    shift  # the --
  fi
  s3_flags
  note_local_paths "$@"
  echo "submit: running newsbeam on $engine" >&2
  set +e
  "$newsbeam" run "$@" \
    --runner=PortableRunner \
    --job_endpoint="localhost:$job_port" \
    --artifact_endpoint="localhost:$artifact_port" \
    --environment_type=EXTERNAL \
    --environment_config="localhost:$pool_port" \
    ${engine_flags[@]+"${engine_flags[@]}"} \
    ${s3[@]+"${s3[@]}"} \
    --extra_package="$wheel"
  status=$?
  set -e
  exit "$status"
}

require_job_server_jar() {  # require_job_server_jar JAR MAVEN_COORDINATES: exit 3 with advice if missing
  local jar="$1" coordinates="$2"
  if [ ! -f "$jar" ]; then
    cat >&2 <<MSG
submit: no job-server jar at $jar
  Fetch it where Maven Central serves Beam's runner artifacts, e.g.
    mvn dependency:copy -Dartifact=$coordinates -DoutputDirectory=$(dirname "$jar")
  and/or set JOB_SERVER_JAR. (On the development machine this artifact was not served.)
MSG
    exit 3
  fi
}
