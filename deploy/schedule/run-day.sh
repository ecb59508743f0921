#!/usr/bin/env bash
# Runs newsbeam for one day: reads RAW_ROOT/dt=DATE/ and writes date DATE of the lake OUT_ROOT
# (newsbeam run --date DATE: partition dt=DATE of every table). Copies of articles of earlier dates
# become duplicates of them (--dedupe-days, default 30). Rerunning a day replaces that day only; the
# other dates are not touched. Several days in order: newsbeam backfill (see the README).
#
# usage: run-day.sh [DATE] [extra newsbeam or Beam flags ...]
#   DATE  YYYY-MM-DD; without it (or with "yesterday"), yesterday's date in the time zone of $TZ
#         (the timer, cron and CronJob files here set TZ=UTC: partitions are UTC days)
#
# environment (all optional):
#   NEWSBEAM_RAW_ROOT   where the raw day folders are           (default /data/raw)
#   NEWSBEAM_OUT_ROOT   the lake every day goes into            (default /data/newsbeam)
#                       Either may be an object-store prefix, e.g. s3://BUCKET/newsbeam or
#                       gs://BUCKET/newsbeam; then give the store's credentials as newsbeam does
#                       (--s3_* flags in NEWSBEAM_FLAGS, boto3's AWS_* variables, Google's
#                       application default credentials). Local roots on a cluster must be seen by
#                       every worker at the same path.
#   NEWSBEAM            the newsbeam command                    (default: newsbeam on PATH)
#   NEWSBEAM_FLAGS      Beam/newsbeam flags, split on spaces    (default: none = in-process runner)
#   NEWSBEAM_WHEEL      a wheel path or glob; when set, staged with --extra_package (portable runners)
#   NEWSBEAM_LOCK_DIR   where the per-lake lock file goes       (default /tmp)
#
# Exit codes: newsbeam's own (0 ok, 1 counts do not reconcile, 2 usage error, 3 the run failed and
# the day's previous output is untouched), 2 for a bad DATE or a missing local input folder (newsbeam
# itself reports a missing object-store input, with 2), 75 when another run into the same lake
# holds the lock on this machine.
set -euo pipefail

raw_root="${NEWSBEAM_RAW_ROOT:-/data/raw}"
out_root="${NEWSBEAM_OUT_ROOT:-/data/newsbeam}"
newsbeam="${NEWSBEAM:-newsbeam}"

day="yesterday"
if [ $# -gt 0 ] && [[ "$1" != --* ]]; then
  day="$1"
  shift
fi
if [ "$day" = "yesterday" ]; then
  day="$(date -d yesterday +%Y-%m-%d)"
fi
# The date must be a real calendar day written as YYYY-MM-DD: it becomes a folder name.
if [[ ! "$day" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || [ "$(date -d "$day" +%Y-%m-%d 2>/dev/null)" != "$day" ]; then
  echo "run-day: not a date (YYYY-MM-DD): $day" >&2
  exit 2
fi

input="${raw_root%/}/dt=$day"
output="${out_root%/}"
is_url() { [[ "$1" =~ ^[a-zA-Z][a-zA-Z0-9+.-]*:// ]]; }
# Local roots are checked here; on an object store newsbeam checks the input and needs no folder made.
if ! is_url "$input" && [ ! -d "$input" ]; then
  echo "run-day: no input folder for $day: $input" >&2
  exit 2
fi
if ! is_url "$out_root"; then
  mkdir -p "$out_root"
fi

flags=()
if [ -n "${NEWSBEAM_FLAGS:-}" ]; then
  read -r -a flags <<< "$NEWSBEAM_FLAGS"
fi
if [ -n "${NEWSBEAM_WHEEL:-}" ]; then
  # shellcheck disable=SC2206  # the glob is meant to expand
  wheels=( $NEWSBEAM_WHEEL )
  if [ "${#wheels[@]}" -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
    echo "run-day: NEWSBEAM_WHEEL must name exactly one file, got: ${wheels[*]}" >&2
    exit 2
  fi
  flags+=("--extra_package=${wheels[0]}")
fi

# One run per lake at a time on this machine (cron has no overlap protection of its own): the dates
# of a lake run one after the other, each seeing the dates before it as history. The lock is not
# shared between machines: the CronJob's concurrencyPolicy and Airflow's max_active_runs do that.
lock_dir="${NEWSBEAM_LOCK_DIR:-/tmp}"
mkdir -p "$lock_dir"
lock="$lock_dir/newsbeam-lake-$(printf '%s' "$output" | sha256sum | cut -c1-16).lock"
exec 9>"$lock"
if ! flock -n 9; then
  echo "run-day: another run into $output is in progress (lock $lock)" >&2
  exit 75
fi

echo "run-day: $day: $input -> $output (dt=$day)" >&2
set +e
"$newsbeam" run --input "$input" --output "$output" --date "$day" "${flags[@]}" "$@"
status=$?
set -e
echo "run-day: $day finished with exit code $status" >&2
exit "$status"
