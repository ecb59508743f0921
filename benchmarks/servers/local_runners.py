"""Start Beam's portable services on this machine: a Prism job server and an SDK worker pool.

Used by tests/test_runners.py, tests/test_cluster_io.py and benchmarks/runners.py. What they need is built by
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
from typing import Optional

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


class TwoPoolRunner:
    """Marker for the Beam runner of :func:`prism_with_two_worker_pools` (set up there)."""


def _two_pool_runner_class():
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2
    from apache_beam.runners.portability.portable_runner import PortableRunner

    class _Runner(PortableRunner):
        """PortableRunner that gives each EXTERNAL environment of the pipeline its own worker pool.

        Prism starts one SDK worker per environment and runs every stage of an environment on it,
        so the transforms named in ``PIN`` are moved to a copy of their environment (as a resource
        hint would do): those stages run on pool B, all others on pool A.
        """

        POOLS: tuple[str, ...] = ()
        PIN: tuple[str, ...] = ()

        def run_portable_pipeline(self, pipeline, options):
            envs = pipeline.components.environments
            for transform in pipeline.components.transforms.values():
                if transform.environment_id and transform.unique_name.startswith(self.PIN):
                    copy = transform.environment_id + "-pool-b"
                    if copy not in envs:
                        envs[copy].CopyFrom(envs[transform.environment_id])
                    transform.environment_id = copy
            external = sorted(i for i, e in envs.items() if e.urn == common_urns.environments.EXTERNAL.urn)
            for n, env_id in enumerate(external):
                payload = beam_runner_api_pb2.ExternalPayload.FromString(envs[env_id].payload)
                payload.endpoint.url = self.POOLS[n % len(self.POOLS)]
                envs[env_id].payload = payload.SerializeToString()
            return super().run_portable_pipeline(pipeline, options)

    return _Runner


def _pool_environment(pool_dir: str) -> str:
    """A small venv of the pool's own that sees the worker environment's packages read-only (a
    .pth file): Beam's boot program pip-installs the staged wheel into it, not into the shared one."""
    venv = os.path.join(pool_dir, "venv")
    subprocess.run([WORKER_PYTHON, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    shared = subprocess.run([WORKER_PYTHON, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            check=True, capture_output=True, text=True).stdout.strip()
    own = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                          "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(own, "worker-venv.pth"), "w") as handle:
        handle.write(shared + "\n")
    return venv


@contextlib.contextmanager
def prism_with_two_worker_pools(workdir: str, wheel: str, pin: tuple[str, ...], env: Optional[dict] = None):
    """Prism and two EXTERNAL SDK worker pools, A and B, that share no folder: each has its own
    working folder, TMPDIR, boot staging folder and venv. Yields (Beam flags, {pool: folder}); the
    transforms whose names start with ``pin`` run on pool B, the rest on pool A."""
    job_port = free_port()
    os.makedirs(workdir, exist_ok=True)
    servers, logs, pools, folders = [], [], [], {}
    try:
        prism_log = open(os.path.join(workdir, "prism.log"), "w")
        logs.append(prism_log)
        servers.append(subprocess.Popen([PRISM, "--job_port", str(job_port), "--serve_http=false"],
                                        stdout=prism_log, stderr=subprocess.STDOUT))
        for name in ("a", "b"):
            pool_dir = folders[name] = os.path.join(workdir, f"pool-{name}")
            for sub in ("semi", "tmp"):
                os.makedirs(os.path.join(pool_dir, sub), exist_ok=True)
            venv = _pool_environment(pool_dir)
            boot = os.path.join(pool_dir, "boot.sh")  # the pool's boot command is fixed: a wrapper adds its folder
            with open(boot, "w") as handle:
                handle.write(f'#!/bin/sh\nexec {PYTHON_BOOT} --semi_persist_dir={pool_dir}/semi "$@"\n')
            os.chmod(boot, 0o755)
            port = free_port()
            pool_env = dict(os.environ, **(env or {}), PATH=os.path.join(venv, "bin") + os.pathsep + os.environ["PATH"],
                            RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT="1", VIRTUAL_ENV=venv,
                            TMPDIR=os.path.join(pool_dir, "tmp"))
            pool_env.pop("PYTHONPATH", None)
            log = open(os.path.join(pool_dir, "pool.log"), "w")
            logs.append(log)
            servers.append(subprocess.Popen(
                [os.path.join(venv, "bin", "python"), "-m", "apache_beam.runners.worker.worker_pool_main",
                 f"--service_port={port}", f"--container_executable={boot}"],
                env=pool_env, cwd=pool_dir, stdout=log, stderr=subprocess.STDOUT))
            pools.append(f"localhost:{port}")
        wait_for_port(job_port, servers[0])
        for server, pool in zip(servers[1:], pools):
            wait_for_port(int(pool.rsplit(":", 1)[1]), server)
        runner = _two_pool_runner_class()
        runner.POOLS, runner.PIN = tuple(pools), tuple(pin)
        TwoPoolRunner.runner = runner
        yield [f"--runner={__name__}.TwoPoolPortableRunner", f"--job_endpoint=localhost:{job_port}",
               "--environment_type=EXTERNAL", f"--environment_config={pools[0]}", f"--extra_package={wheel}",
               "--parallelism=2"], folders
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        for log in logs:
            log.close()


def TwoPoolPortableRunner():  # noqa: N802 - Beam builds a runner by calling what --runner names
    return TwoPoolRunner.runner()
