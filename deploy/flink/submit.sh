#!/usr/bin/env bash
# Runs newsbeam on a Flink 1.19 cluster through Beam's Flink job server, with the Python SDK workers
# in a worker pool (EXTERNAL environment) and newsbeam staged to them as a wheel.
#
# NOT RUN ON THE DEVELOPMENT MACHINE: the job-server jar could not be fetched there (the Maven Central
# it reaches does not serve Beam's runner artifacts, `mvn dependency:get` answered "Could not find
# artifact"). Its mechanics (wheel, job-server start, local worker pool, run with the staged wheel,
# cleanup) were checked there with a stand-in `java` that started Prism instead of the jar; Flink
# itself has not run. The same sequence is what tests/test_runners.py runs on Prism.
#
# usage: deploy/flink/submit.sh --input PATH... --output DIR [more newsbeam or Beam flags]
#
# It starts, and stops again when the job ends:
#   1. the job server:  java -jar beam-runners-flink-1.19-job-server-2.77.0.jar --flink-master=...
#   2. a Python SDK worker pool on port 50000 (unless WORKER_POOL=none)
# then builds the newsbeam wheel and runs `newsbeam run ... --extra_package=<wheel>`.
#
# environment:
#   FLINK_MASTER     Flink REST address (host:port) of a running cluster       (default localhost:8081)
#   JOB_SERVER_JAR   the job-server jar                                        (default: beside this script)
#   JAVA             java launcher (Java 11 or 17)                             (default java)
#   JAVA_OPTS        JVM flags for the job server, e.g. --add-opens=... on Java 17
#   JOB_PORT, ARTIFACT_PORT, EXPANSION_PORT                                    (default 8099, 8098, 8097)
#   ARTIFACTS_DIR    where the job server keeps staged files; every TaskManager must be able to read
#                    it at the same path (same host, or a shared mount)   (default /tmp/beam-artifact-staging)
#   WORKER_POOL      docker: run the newsbeam-worker image with --worker_pool (host network)
#                    local:  Beam's worker pool from deploy/local/prepare-runners.sh's cache
#                    none:   a pool is already running beside each TaskManager (e.g. the k8s sidecar)
#                                                                              (default docker)
#   WORKER_IMAGE     image for WORKER_POOL=docker                              (default newsbeam-worker:0.1.0)
#   DATA_DIRS        folders to mount into the docker worker pool at the same path; must hold
#                    --input and --output, space-separated                     (default /data)
#   RUNNERS_CACHE    cache of prepare-runners.sh for WORKER_POOL=local         (default ~/.cache/newsbeam/beam-2.77.0)
#   PARALLELISM      --parallelism                                              (default 2)
#   NEWSBEAM         the newsbeam command                                      (default: .venv/bin/newsbeam, else newsbeam)
#   PYTHON           python used to build the wheel                            (default: the venv's, else python3)
#
# The worker pool listens on port 50000 of this host, so with WORKER_POOL=docker|local the Flink
# TaskManagers must run on this host too (a one-machine cluster). For a multi-machine cluster run a
# pool beside every TaskManager (k8s-session-cluster.yaml does) and use WORKER_POOL=none.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

flink_master="${FLINK_MASTER:-localhost:8081}"
jar="${JOB_SERVER_JAR:-$here/beam-runners-flink-1.19-job-server-2.77.0.jar}"
java="${JAVA:-java}"
job_port="${JOB_PORT:-8099}"
artifact_port="${ARTIFACT_PORT:-8098}"
expansion_port="${EXPANSION_PORT:-8097}"
artifacts_dir="${ARTIFACTS_DIR:-/tmp/beam-artifact-staging}"
worker_pool="${WORKER_POOL:-docker}"
worker_image="${WORKER_IMAGE:-newsbeam-worker:0.1.0}"
runners_cache="${RUNNERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/newsbeam/beam-2.77.0}"
parallelism="${PARALLELISM:-2}"
pool_port=50000   # Beam's boot program starts its worker pool on this port

if [ -x "$repo/.venv/bin/newsbeam" ]; then
  newsbeam="${NEWSBEAM:-$repo/.venv/bin/newsbeam}"
  python="${PYTHON:-$repo/.venv/bin/python}"
else
  newsbeam="${NEWSBEAM:-newsbeam}"
  python="${PYTHON:-python3}"
fi

if [ ! -f "$jar" ]; then
  cat >&2 <<MSG
submit: no job-server jar at $jar
  Fetch it where Maven Central serves Beam's runner artifacts, e.g.
    mvn dependency:copy -Dartifact=org.apache.beam:beam-runners-flink-1.19-job-server:2.77.0 -DoutputDirectory=$here
  and/or set JOB_SERVER_JAR. (On the development machine this artifact was not served.)
MSG
  exit 3
fi

state="$(mktemp -d "${TMPDIR:-/tmp}/newsbeam-flink.XXXXXX")"
pids=()
pool_container=""
# shellcheck disable=SC2329  # run by the EXIT trap
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$pool_container" ]; then
    docker stop "$pool_container" >/dev/null 2>&1 || true
  fi
  echo "submit: logs kept in $state" >&2
}
trap cleanup EXIT

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

# 1. The wheel that the workers install. Built into the state folder, so the checkout is not touched
#    beyond pip's own build/ folder.
echo "submit: building the newsbeam wheel" >&2
"$python" -m pip wheel --quiet --no-deps -w "$state/dist" "$repo"
wheel="$(ls "$state"/dist/newsbeam-*.whl)"

# 2. The job server. It submits the job to the Flink cluster at $flink_master.
mkdir -p "$artifacts_dir"
echo "submit: starting the Flink job server for $flink_master" >&2
# shellcheck disable=SC2086  # JAVA_OPTS is a list of flags
"$java" ${JAVA_OPTS:-} -jar "$jar" \
  --flink-master="$flink_master" \
  --job-port="$job_port" --artifact-port="$artifact_port" --expansion-port="$expansion_port" \
  --artifacts-dir="$artifacts_dir" \
  > "$state/job-server.log" 2>&1 &
pids+=("$!")
wait_for_port "$job_port" "$!" job-server

# 3. The SDK worker pool.
case "$worker_pool" in
  docker)
    pool_container="newsbeam-pool-$$"
    mounts=()
    for dir in ${DATA_DIRS:-/data}; do
      mounts+=(-v "$dir:$dir")
    done
    echo "submit: starting worker pool container $worker_image" >&2
    docker run --rm --detach --name "$pool_container" --network host "${mounts[@]}" \
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

# 4. The job. newsbeam waits for it to finish and exits 0 only when its counts reconcile.
echo "submit: running newsbeam on Flink" >&2
set +e
"$newsbeam" run "$@" \
  --runner=PortableRunner \
  --job_endpoint="localhost:$job_port" \
  --artifact_endpoint="localhost:$artifact_port" \
  --environment_type=EXTERNAL \
  --environment_config="localhost:$pool_port" \
  --parallelism="$parallelism" \
  --extra_package="$wheel"
status=$?
set -e
exit "$status"
