"""The processes a benchmark run starts (Envoys, LiteLLM, wrk), and their clean-up.

Every process is started in its own session, registered, and stopped by its own process
group id when the run ends, fails or is interrupted: nothing is left behind.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from free_port import free_port  # noqa: F401  (scripts/free_port.py, on run.py's path)

_started = []
_lock = threading.Lock()


class Proc:
    """A process in its own session (so its children can be stopped with it)."""

    def __init__(self, name, cmd, log_path, env=None, cwd=None):
        self.name = name
        self.cmd = [str(c) for c in cmd]
        self.log_path = Path(log_path)
        self.env = env
        self.cwd = cwd
        self.process = None

    def start(self):
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        with _lock:
            _started.append(self)
        return self

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=10):
        if self.process is None:
            return
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Workers that outlived their parent (uvicorn) share its process group.
        _signal_group(self.process.pid, signal.SIGKILL)
        with _lock:
            if self in _started:
                _started.remove(self)

    def log_tail(self, lines=30):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_all():
    with _lock:
        procs = list(reversed(_started))
    for proc in procs:
        proc.stop(timeout=5)


def install_signal_handlers():
    def handler(signum, _frame):
        stop_all()
        raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def http_get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except OSError:
        return None, None


def wait_until(proc, ready, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{what} exited with {proc.process.returncode}:\n{proc.log_tail()}")
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {timeout_s}s:\n{proc.log_tail()}")


class Envoy(Proc):
    def __init__(self, name, binary, config, admin_port, base_id, concurrency, workdir):
        workdir = Path(workdir)
        config_path = workdir / f"envoy-{name}.json"
        config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
        cmd = [
            binary, "-c", config_path,
            "--base-id", base_id,
            "--concurrency", concurrency,
            "-l", "warning",
        ]  # fmt: skip
        super().__init__(f"envoy-{name}", cmd, workdir / f"envoy-{name}.log")
        self.admin_port = admin_port

    def wait_ready(self, timeout_s=30):
        url = f"http://127.0.0.1:{self.admin_port}/ready"
        wait_until(self, lambda: (http_get(url)[1] or "").strip() == "LIVE", timeout_s, self.name)
        return self

    def stats(self, filter_regex):
        url = f"http://127.0.0.1:{self.admin_port}/stats?filter={filter_regex}"
        _, text = http_get(url)
        return text or ""


class LiteLLM(Proc):
    def __init__(self, venv, config_path, port, workers, workdir):
        env = dict(os.environ)
        env.update(
            {
                # No network here: use the cost map shipped in the package, send no telemetry.
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "LITELLM_TELEMETRY": "False",
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        cmd = [
            Path(venv) / "bin" / "litellm",
            "--config", config_path,
            "--host", "127.0.0.1",
            "--port", port,
            "--num_workers", workers,
            "--telemetry", "False",
        ]  # fmt: skip
        super().__init__("litellm", cmd, Path(workdir) / "litellm.log", env=env)
        self.port = port

    def wait_ready(self, timeout_s=180):
        url = f"http://127.0.0.1:{self.port}/health/liveliness"
        wait_until(self, lambda: http_get(url)[0] == 200, timeout_s, "litellm proxy")
        return self


def vm_kb(pid, field="VmRSS"):
    """A `Vm*` field of /proc/PID/status in KiB, or None."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def group_pids(pgid):
    """Processes in process group `pgid` (the LiteLLM master and its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp ...
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def cpu_ns(pids):
    """CPU time (user + system) used so far by every thread of `pids`, in nanoseconds, from
    /proc/PID/task/TID/schedstat (nanosecond resolution)."""
    total = 0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total


class RssSampler:
    """Samples the summed VmRSS of some processes every `interval_s` while running."""

    def __init__(self, pids_fn, interval_s=0.25):
        self.pids_fn = pids_fn
        self.interval_s = interval_s
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            values = [vm_kb(pid) for pid in self.pids_fn()]
            values = [v for v in values if v is not None]
            if values:
                self.samples.append(sum(values))
            self._stop.wait(self.interval_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def max_kb(self):
        return max(self.samples) if self.samples else None


def run_wrk(url, script, bodies, headers, duration_s, connections, threads, workdir, tag):
    """One bounded wrk run; returns the BENCH_RESULT dict plus requests/s."""
    cmd = [
        "wrk", "-t", threads, "-c", connections, "-d", f"{int(duration_s)}s",
        "--timeout", "10s", "-s", script, url, "--", bodies,
    ] + [f"{k}: {v}" for k, v in headers.items()]  # fmt: skip
    proc = Proc(f"wrk-{tag}", cmd, Path(workdir) / "wrk-last.log").start()
    try:
        proc.process.wait(timeout=duration_s + 30)
    except subprocess.TimeoutExpired:
        proc.stop()
        raise RuntimeError(f"wrk {tag} did not finish") from None
    proc.stop()
    output = proc.log_path.read_text(errors="replace")
    match = re.search(r"^BENCH_RESULT (\{.*\})$", output, re.MULTILINE)
    if proc.process.returncode != 0 or not match:
        raise RuntimeError(f"wrk {tag} failed ({proc.process.returncode}):\n{output[-2000:]}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["error_count"] = sum(result["errors"].values())
    return result


def ensure_wrk():
    if shutil.which("wrk"):
        return
    print("bench: wrk is missing; installing Debian's wrk (apt-get install -y wrk)", flush=True)
    install = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0:
        install = ["sudo"] + install
    if subprocess.run(install).returncode != 0:
        update = ["apt-get", "update"] if os.geteuid() == 0 else ["sudo", "apt-get", "update"]
        subprocess.run(update, check=False)
        subprocess.run(install, check=True)
    if not shutil.which("wrk"):
        raise SystemExit("bench: wrk is still missing after apt-get install")
