"""Start Beam's portable services on this machine: a Prism job server and an SDK worker pool.

Used by tests/test_runners.py and benchmarks/runners.py. What they need is built by
deploy/local/prepare-runners.sh into RUNNERS_CACHE.
"""
from __future__ import annotations

import contextlib
import glob
import os
import socket
import subprocess
import sys
import time

RUNNERS_CACHE = os.environ.get("NEWSBEAM_RUNNERS_CACHE",
                               os.path.join(os.path.expanduser("~"), ".cache", "newsbeam", "beam-2.77.0"))
PRISM = os.path.join(RUNNERS_CACHE, "prism")
PYTHON_BOOT = os.path.join(RUNNERS_CACHE, "python-boot")
WORKER_PYTHON = os.path.join(RUNNERS_CACHE, "worker-venv", "bin", "python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on port {port} after {seconds}s")


def build_wheel(project_root: str, dist: str) -> str:
    """The project as a wheel, the way it is shipped to workers."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, project_root],
                   check=True, capture_output=True, timeout=600)
    (path,) = glob.glob(os.path.join(dist, "newsbeam-*.whl"))
    return path


@contextlib.contextmanager
def prism_with_worker_pool(workdir: str, wheel: str):
    """A Prism job server and an external SDK worker pool; yields the Beam flags that use them.

    The pool runs in its own environment (worker-venv) from ``workdir``, away from any checkout: the
    project reaches it only as ``wheel``, staged with --extra_package and pip-installed by Beam's boot
    program, as on a cluster.
    """
    job_port, pool_port = free_port(), free_port()
    env = dict(os.environ, PATH=os.path.dirname(WORKER_PYTHON) + os.pathsep + os.environ["PATH"],
               RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT="1")
    env.pop("PYTHONPATH", None)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "prism.log"), "w") as prism_log, \
            open(os.path.join(workdir, "pool.log"), "w") as pool_log:
        servers = [
            subprocess.Popen([PRISM, "--job_port", str(job_port), "--serve_http=false"],
                             stdout=prism_log, stderr=subprocess.STDOUT),
            subprocess.Popen([WORKER_PYTHON, "-m", "apache_beam.runners.worker.worker_pool_main",
                              f"--service_port={pool_port}", f"--container_executable={PYTHON_BOOT}"],
                             env=env, cwd=workdir, stdout=pool_log, stderr=subprocess.STDOUT),
        ]
        try:
            wait_for_port(job_port, servers[0])
            wait_for_port(pool_port, servers[1])
            yield ["--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
                   "--environment_type=EXTERNAL", f"--environment_config=localhost:{pool_port}",
                   f"--extra_package={wheel}", "--parallelism=2"]
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
