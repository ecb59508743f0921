#!/usr/bin/env bash
# Runs newsbeam on a Spark 3 cluster (standalone master) through Beam's Spark job server, with the
# Python SDK workers in a worker pool (EXTERNAL environment) and newsbeam staged to them as a wheel.
#
# NOT RUN ON THE DEVELOPMENT MACHINE: the job-server jar could not be fetched there (the Maven Central
# it reaches does not serve Beam's runner artifacts, `mvn dependency:get` answered "Could not find
# artifact"). Its mechanics (wheel, job-server start, local worker pool, run with the staged wheel,
# cleanup) were checked there with a stand-in `java` that started Prism instead of the jar, also with
# s3:// input and output on a local S3 server (moto) and the S3_* settings below; Spark
# itself has not run. See deploy/README.md.
#
# usage: deploy/spark/submit.sh --input s3://BUCKET/raw/... --output s3://BUCKET/newsbeam/... [more flags]
#   (gs:// works the same way; local paths only where every worker sees the same folder)
#
# It starts, and stops again when the job ends:
#   1. the job server:  java -jar beam-runners-spark-3-job-server-2.77.0.jar --spark-master-url=spark://...
#   2. a Python SDK worker pool on port 50000 (unless WORKER_POOL=none)
# then builds the newsbeam wheel and runs `newsbeam run ... --extra_package=<wheel>`.
#
# environment:
#   SPARK_MASTER_URL spark://HOST:7077 of a running standalone cluster        (default spark://localhost:7077)
#   JOB_SERVER_JAR   the job-server jar                                        (default: beside this script)
#   JAVA             java launcher (Java 11 or 17)                             (default java)
#   JAVA_OPTS        extra JVM flags; the --add-opens flags Java 17 needs are always added
#   JOB_PORT, ARTIFACT_PORT, EXPANSION_PORT                                    (default 8099, 8098, 8097)
#   ARTIFACTS_DIR    where the job server keeps staged files (the wheel, the pipeline); every Spark
#                    executor must be able to read it at the same path. Only artifacts go there,
#                    never the output.                                         (default /tmp/beam-artifact-staging)
#   WORKER_POOL      docker | local | none, as in deploy/flink/submit.sh       (default docker)
#   WORKER_IMAGE     image for WORKER_POOL=docker                              (default newsbeam-worker:0.1.0)
#   S3_ENDPOINT_URL, S3_REGION_NAME, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY
#                    passed as --s3_endpoint_url, ... when set (as in deploy/flink/submit.sh)
#   DATA_DIRS        local folders mounted into the docker worker pool at the same path; only for
#                    local --input/--output                                    (default none)
#   RUNNERS_CACHE    cache of prepare-runners.sh for WORKER_POOL=local         (default ~/.cache/newsbeam/beam-2.77.0)
#   NEWSBEAM, PYTHON the newsbeam command and the python that builds the wheel (default: .venv's, else PATH)
#
# The worker pool listens on port 50000 of this host, so with WORKER_POOL=docker|local the Spark
# workers must run on this host too. For several hosts run a pool on each (the newsbeam-worker image
# with --worker_pool and --network host) and use WORKER_POOL=none.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# What deploy/flink/submit.sh does the same way: the common settings (ports, worker pool, NEWSBEAM,
# PYTHON), the state folder and its cleanup, the wheel, the worker pool and the run.
# shellcheck source-path=SCRIPTDIR source=../lib/portable-submit.sh
source "$here/../lib/portable-submit.sh"

spark_master="${SPARK_MASTER_URL:-spark://localhost:7077}"
jar="${JOB_SERVER_JAR:-$here/beam-runners-spark-3-job-server-2.77.0.jar}"
java="${JAVA:-java}"
# Spark 3 on Java 17 needs these opened (the Beam SDK adds the same ones when it starts the jar itself).
jvm_opens=(--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
           --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED)

require_job_server_jar "$jar" org.apache.beam:beam-runners-spark-3-job-server:2.77.0

init_state spark

# 1. The wheel that the workers install.
build_wheel

# 2. The job server. It runs the pipeline as a Spark application on $spark_master.
mkdir -p "$artifacts_dir"
echo "submit: starting the Spark job server for $spark_master" >&2
# shellcheck disable=SC2086  # JAVA_OPTS is a list of flags
start_job_server "$java" "${jvm_opens[@]}" ${JAVA_OPTS:-} -jar "$jar" \
  --spark-master-url="$spark_master" \
  --job-port="$job_port" --artifact-port="$artifact_port" --expansion-port="$expansion_port" \
  --artifacts-dir="$artifacts_dir"

# 3. The SDK worker pool.
start_worker_pool

# 4. The job. newsbeam waits for it to finish and exits 0 only when its counts reconcile.
run_newsbeam_portable Spark -- "$@"
