#!/usr/bin/env bash
# Runs newsbeam on a Flink 1.19 cluster through Beam's Flink job server, with the Python SDK workers
# in a worker pool (EXTERNAL environment) and newsbeam staged to them as a wheel.
#
# NOT RUN ON THE DEVELOPMENT MACHINE: the job-server jar could not be fetched there (the Maven Central
# it reaches does not serve Beam's runner artifacts, `mvn dependency:get` answered "Could not find
# artifact"). Its mechanics (wheel, job-server start, local worker pool, run with the staged wheel,
# cleanup) were checked there with a stand-in `java` that started Prism instead of the jar, also with
# s3:// input and output on a local S3 server (moto) and the S3_* settings below; Flink
# itself has not run. The same sequence is what tests/test_runners.py runs on Prism.
#
# usage: deploy/flink/submit.sh --input s3://BUCKET/raw/... --output s3://BUCKET/newsbeam/... [more flags]
#   (gs:// works the same way; local paths only where every worker sees the same folder)
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
#   ARTIFACTS_DIR    where the job server keeps staged files (the wheel, the pipeline); every
#                    TaskManager must be able to read it at the same path (same host, or a volume
#                    mounted on both). Only artifacts go there, never the output.
#                                                                              (default /tmp/beam-artifact-staging)
#   WORKER_POOL      docker: run the newsbeam-worker image with --worker_pool (host network)
#                    local:  Beam's worker pool from deploy/local/prepare-runners.sh's cache
#                    none:   a pool is already running beside each TaskManager (e.g. the k8s sidecar)
#                                                                              (default docker)
#   WORKER_IMAGE     image for WORKER_POOL=docker                              (default newsbeam-worker:0.1.0)
#   S3_ENDPOINT_URL, S3_REGION_NAME, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY
#                    passed as --s3_endpoint_url, ... when set; or leave the keys unset and give
#                    the launcher and workers boto3's AWS_* variables (see lib/portable-submit.sh)
#   DATA_DIRS        local folders to mount into the docker worker pool at the same path, space-
#                    separated; only for local --input/--output, none for s3:// or gs:// (default none)
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
# What deploy/spark/submit.sh does the same way: the common settings (ports, worker pool, NEWSBEAM,
# PYTHON), the state folder and its cleanup, the wheel, the worker pool and the run.
# shellcheck source-path=SCRIPTDIR source=../lib/portable-submit.sh
source "$here/../lib/portable-submit.sh"

flink_master="${FLINK_MASTER:-localhost:8081}"
jar="${JOB_SERVER_JAR:-$here/beam-runners-flink-1.19-job-server-2.77.0.jar}"
java="${JAVA:-java}"
parallelism="${PARALLELISM:-2}"

require_job_server_jar "$jar" org.apache.beam:beam-runners-flink-1.19-job-server:2.77.0

init_state flink

# 1. The wheel that the workers install.
build_wheel

# 2. The job server. It submits the job to the Flink cluster at $flink_master.
mkdir -p "$artifacts_dir"
echo "submit: starting the Flink job server for $flink_master" >&2
# shellcheck disable=SC2086  # JAVA_OPTS is a list of flags
start_job_server "$java" ${JAVA_OPTS:-} -jar "$jar" \
  --flink-master="$flink_master" \
  --job-port="$job_port" --artifact-port="$artifact_port" --expansion-port="$expansion_port" \
  --artifacts-dir="$artifacts_dir"

# 3. The SDK worker pool.
start_worker_pool

# 4. The job. newsbeam waits for it to finish and exits 0 only when its counts reconcile.
run_newsbeam_portable Flink --parallelism="$parallelism" -- "$@"
