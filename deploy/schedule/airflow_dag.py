"""Airflow DAG: newsbeam once per day partition, on the Flink job server with EXTERNAL SDK workers.

One run per UTC day. The run for day D starts after D ends (02:30 UTC on D+1) and processes
``RAW_ROOT/dt=D/`` into date D of the lake ``OUT_ROOT`` (``--date D``: partition ``dt=D`` of every
table, copies of earlier dates' articles marked as such); clearing a day's task reruns that day and
replaces only its date. Missed days are caught up one at a time, oldest first (``catchup=True``,
``max_active_runs=1``), so each day sees the days before it.

Needs ``apache-airflow-providers-apache-beam``. The task runs ``PYTHON -m pipelines.articles`` on the
Airflow worker, so that worker needs: a Python 3.11 environment with newsbeam installed (the same
Python minor version and Beam 2.77.0 as the SDK workers), the newsbeam wheel to stage, network access
to the job server, and read access to where the input and output live: it checks the input and reads
the run's summary back from the output when the job ends. With ``NEWSBEAM_RAW_ROOT`` and
``NEWSBEAM_OUT_ROOT`` on an object store (``s3://BUCKET/raw``, ``s3://BUCKET/newsbeam``) that is the
store's credentials (boto3's ``AWS_*`` variables or a role; Google application default credentials
for ``gs://``), the same ones the Flink workers have; no volume is shared with them. Local roots
(the defaults below) must be mounted at the same path on the Airflow worker and every Flink worker;
the cluster of ``deploy/flink/k8s-session-cluster.yaml`` mounts no data volume, so use ``s3://``
roots with it. Settings come from the environment of the scheduler and workers (``NEWSBEAM_*``
below).

Checked on the development machine by loading it into Airflow 3.3.2's DagBag and rendering the task's
command; it has not run against a Flink cluster there (see deploy/README.md).
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator
from airflow.timetables.interval import CronDataIntervalTimetable

PYTHON = os.environ.get("NEWSBEAM_PYTHON", "/opt/newsbeam/.venv/bin/python")
WHEEL = os.environ.get("NEWSBEAM_WHEEL", "/opt/newsbeam/dist/newsbeam-0.1.0-py3-none-any.whl")
RAW_ROOT = os.environ.get("NEWSBEAM_RAW_ROOT", "/data/raw")
OUT_ROOT = os.environ.get("NEWSBEAM_OUT_ROOT", "/data/newsbeam")
JOB_ENDPOINT = os.environ.get("NEWSBEAM_JOB_ENDPOINT", "beam-job-server:8099")  # the Flink job server
ARTIFACT_ENDPOINT = os.environ.get("NEWSBEAM_ARTIFACT_ENDPOINT", "beam-job-server:8098")

with DAG(
    dag_id="newsbeam_daily",
    description="newsbeam: raw news pages of one day -> deduplicated, cleaned, tagged Parquet",
    # Daily intervals [D 02:30, D+1 02:30) UTC: {{ ds }} is D, the day that has just ended. Named
    # explicitly because Airflow 3's default for a cron string gives {{ ds }} = the run's own date.
    schedule=CronDataIntervalTimetable("30 2 * * *", timezone="UTC"),
    start_date=datetime(2025, 3, 1, tzinfo=timezone.utc),  # the first day with raw data: catchup starts here
    catchup=True,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=12),
    default_args={
        "owner": "newsbeam",
        # One retry for transient cluster trouble; rerunning a day is safe (it replaces that day's
        # partition). A run whose counts do not reconcile (exit 1) fails the same way again.
        "retries": 1,
        "retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=6),
    },
    tags=["newsbeam", "beam", "flink"],
) as dag:
    BeamRunPythonPipelineOperator(
        task_id="newsbeam_run",
        runner="PortableRunner",
        py_interpreter=PYTHON,
        py_options=["-m"],  # runs `python -m pipelines.articles`: the installed module, no file path
        py_file="pipelines.articles",
        pipeline_options={
            "input": RAW_ROOT + "/dt={{ ds }}",
            "output": OUT_ROOT,  # one lake: the run writes its date's partition dt={{ ds }} of every table
            "date": "{{ ds }}",
            "job_endpoint": JOB_ENDPOINT,
            "artifact_endpoint": ARTIFACT_ENDPOINT,
            "environment_type": "EXTERNAL",
            "environment_config": "localhost:50000",  # the worker pool beside each TaskManager
            "parallelism": 2,
            "extra_package": WHEEL,
        },
    )
