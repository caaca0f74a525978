"""Helpers every benchmark uses: the report (each figure beside its same-run baseline), timing,
peak memory, a gunicorn on a free loopback port, and a small bounded HTTP load generator.

This module imports nothing from Django at import time, so tests can import it without a
database. See bench/README.md for how a benchmark module plugs into bench/run.py.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class Skip(Exception):  # noqa: N818 - a signal to the runner, not an error
    """Raise from a benchmark's run() when it cannot run here (e.g. it needs PostgreSQL)."""


# ---- numbers ------------------------------------------------------------------------------------


def fmt_number(value: float | None) -> str:
    """312 -> '312', 9800 -> '9,800', 0.0321 -> '0.032', 4.25 -> '4.25'."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 99.95 or value == int(value):
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.2g}" if magnitude < 0.01 else f"{value:.3f}"


def ratio(value: float, baseline: float) -> float | None:
    """value / baseline, or None when the baseline is zero (nothing to compare against)."""
    if not baseline:
        return None
    return value / baseline


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of the samples; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# ---- the report ---------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    ratio: float | None = None
    extra: dict = field(default_factory=dict)

    def line(self) -> str:
        text = f"{self.name}: {fmt_number(self.value)}{self.unit}"
        if self.baseline_name is not None:
            text += f" | {self.baseline_name}: {fmt_number(self.baseline)}{self.unit}"
            text += f" | ratio {fmt_number(self.ratio)}"
        return text


@dataclass
class Section:
    name: str
    status: str = "running"  # running, ok, skipped, error
    seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    message: str = ""


class Report:
    """Prints each figure beside its baseline from the same run, as a ratio, and keeps them all
    for bench/out/results.json.

        report.figure("orders accepted via API", 312, "/s", baseline=("raw INSERT", 9800))
        -> orders accepted via API: 312/s | raw INSERT: 9,800/s | ratio 0.032

    The ratio is always value / baseline: above 1 means more than the baseline (good for a
    rate, bad for a latency or a memory figure).
    """

    def __init__(self, *, out_path: Path | None = None, stream=None, quick: bool = False):
        self.out_path = Path(out_path) if out_path else OUT_DIR / "results.json"
        self.stream = stream if stream is not None else sys.stdout
        self.quick = quick
        self.started = datetime.now(UTC)
        self.sections: list[Section] = []
        self.current: Section | None = None

    # printing
    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def section(self, name: str) -> Section:
        """Start a module's section; bench/run.py calls this before each module's run()."""
        self.current = Section(name=name)
        self.sections.append(self.current)
        self._print(f"\n== {name}")
        return self.current

    def _section(self) -> Section:
        return self.current if self.current is not None else self.section("bench")

    def figure(
        self,
        name: str,
        value: float,
        unit: str = "",
        *,
        baseline: tuple[str, float] | None = None,
        **extra,
    ) -> Figure:
        """Record and print one figure, optionally beside (baseline name, baseline value).
        ``extra`` goes to the JSON only (sizes, p50s, error counts...)."""
        fig = Figure(name=name, value=float(value), unit=unit, extra=extra)
        if baseline is not None:
            fig.baseline_name, fig.baseline = baseline[0], float(baseline[1])
            fig.ratio = ratio(fig.value, fig.baseline)
        self._section().figures.append(fig)
        self._print("  " + fig.line())
        return fig

    def note(self, text: str) -> None:
        """A line of context (sizes, settings, decisions) printed and kept in the JSON."""
        self._section().notes.append(text)
        self._print(f"  - {text}")

    def finish_section(self, status: str, seconds: float, message: str = "") -> None:
        section = self._section()
        section.status, section.seconds, section.message = status, seconds, message
        tail = f": {message}" if message else ""
        self._print(f"  [{status} in {seconds:.1f} s{tail}]")
        self.current = None

    # JSON
    def as_dict(self) -> dict:
        return {
            "started": self.started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": self.quick,
            "environment": environment(),
            "modules": {s.name: {**asdict(s)} for s in self.sections},
        }

    def write_json(self) -> Path:
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        self.out_path.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False, default=str) + "\n")
        return self.out_path


def environment() -> dict:
    """What the figures were measured on (best effort, never raises)."""
    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "debug": os.environ.get("DEBUG", ""),
        "celery_eager": os.environ.get("CELERY_TASK_ALWAYS_EAGER", ""),
    }
    with contextlib.suppress(Exception):
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        env["git_commit"] = out.stdout.strip()
    with contextlib.suppress(Exception):
        import django
        from django.conf import settings

        env["django"] = django.get_version()
        if settings.configured:
            env["database"] = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return env


# ---- timing -------------------------------------------------------------------------------------


@dataclass
class Timing:
    runs: list[float]

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def timed(func: Callable, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call, on the monotonic high-resolution clock."""
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def repeat(func: Callable[[int], object], n: int = 3) -> Timing:
    """Call func(i) for i in 0..n-1 and time each call; use .best or .median of the result.
    func gets the round number so each round can use fresh rows (unique keys)."""
    return Timing(runs=[timed(func, i)[0] for i in range(n)])


def best_of(func: Callable[[int], object], n: int = 3) -> float:
    return repeat(func, n).best


def median_of(func: Callable[[int], object], n: int = 3) -> float:
    return repeat(func, n).median


# ---- memory -------------------------------------------------------------------------------------


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident set size of this process (or of its waited-for children) in MB, Linux units."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


@dataclass
class PythonPeak:
    peak_mb: float = 0.0


@contextlib.contextmanager
def python_peak() -> Iterator[PythonPeak]:
    """Peak memory allocated by Python objects inside the block (tracemalloc; slows code ~2x,
    so never time the same block)."""
    result = PythonPeak()
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield result
    finally:
        result.peak_mb = max(0, tracemalloc.get_traced_memory()[1] - base) / (1024 * 1024)
        if not already:
            tracemalloc.stop()


def process_peak_rss_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of another live process in MB, 0.0 when unknown (not Linux, gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def child_pids(pid: int) -> list[int]:
    """Direct children of a live process (Linux /proc), e.g. gunicorn's workers."""
    pids: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                pids.extend(int(p) for p in (task / "children").read_text().split())
    return pids


# ---- gunicorn -----------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _check_loopback(host: str) -> None:
    if host not in LOOPBACK:
        raise ValueError(f"benchmarks only talk to loopback, not {host!r}")


class Gunicorn:
    """gunicorn serving the project on a free loopback port, started and stopped by us.

        with Gunicorn(workers=2) as server:
            http_load(server.port, ("GET", "/bare/"), total=1000)

    The server inherits this process's environment (DATABASE_URL, SECRET_KEY...) plus ``env``.
    The default is the production shape (Dockerfile): sync workers, which close the connection
    after each response; pass worker_class="gthread", threads=N for keep-alive.
    """

    def __init__(
        self,
        app: str = "oms.wsgi:application",
        *,
        workers: int = 2,
        worker_class: str = "sync",
        threads: int = 1,
        env: dict | None = None,
        ready_path: str = "/healthz",
        ready_timeout: float = 30.0,
        log_path: Path | None = None,
    ):
        self.app, self.workers, self.worker_class, self.threads = app, workers, worker_class, threads
        self.env = env or {}
        self.ready_path, self.ready_timeout = ready_path, ready_timeout
        self.log_path = Path(log_path) if log_path else OUT_DIR / "gunicorn.log"
        self.host = "127.0.0.1"
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{k: str(v) for k, v in self.env.items()}}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        last_error = ""
        for _attempt in range(3):  # another process may take the free port before gunicorn binds it
            self.port = free_port(self.host)
            command = [
                sys.executable, "-m", "gunicorn", self.app,
                "--bind", f"{self.host}:{self.port}",
                "--workers", str(self.workers),
                "--worker-class", self.worker_class,
                "--threads", str(self.threads),
                "--timeout", "60",
                "--graceful-timeout", "5",
                "--chdir", str(ROOT),
                "--log-level", "warning",
                "--error-logfile", str(self.log_path),
            ]  # fmt: skip
            self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
            try:
                self._wait_ready()
                return self
            except RuntimeError as exc:
                last_error = str(exc)
                self.stop()
        raise RuntimeError(last_error)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
                try:
                    conn.request("GET", self.ready_path)
                    status = conn.getresponse().status
                finally:
                    conn.close()
                if status == 200:
                    return
                raise RuntimeError(f"gunicorn answered {self.ready_path} with {status}:\n{self.log_tail()}")
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn was not ready within {self.ready_timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def worker_peak_rss_mb(self) -> list[float]:
        """Each live worker's peak RSS in MB (read before stop())."""
        return [process_peak_rss_mb(pid) for pid in child_pids(self.pid)] if self.pid else []

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown, workers included
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---- HTTP load ----------------------------------------------------------------------------------

# (method, path, body or None, headers or None)
Request = tuple[str, str, bytes | None, dict | None]


@dataclass
class LoadResult:
    requests: int  # completed with a response (any status)
    ok: int  # answered with an expected status
    errors: int  # connection errors, timeouts and unexpected statuses
    seconds: float
    rps: float  # ok responses per second of wall time
    p50_ms: float
    p99_ms: float
    statuses: dict = field(default_factory=dict)
    stopped_by_time: bool = False
    first_error: str = ""
    latencies: list[float] = field(default_factory=list, repr=False)  # seconds, for merge_load()

    def summary(self) -> dict:
        """The figures without the raw latencies, rounded, for the JSON."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items() if k != "latencies"}


def merge_load(results: list[LoadResult]) -> LoadResult:
    """One result from several runs (e.g. rounds interleaved with a baseline's, so a change in
    the machine's background load hits both alike): rates over the summed time, percentiles
    over all latencies."""
    latencies = [x for r in results for x in r.latencies]
    statuses: Counter = Counter()
    for r in results:
        statuses.update(r.statuses)
    seconds = sum(r.seconds for r in results)
    ok = sum(r.ok for r in results)
    return LoadResult(
        requests=sum(r.requests for r in results),
        ok=ok,
        errors=sum(r.errors for r in results),
        seconds=seconds,
        rps=ok / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        statuses=dict(sorted(statuses.items())),
        stopped_by_time=any(r.stopped_by_time for r in results),
        first_error=next((r.first_error for r in results if r.first_error), ""),
        latencies=latencies,
    )


def http_load(
    port: int,
    requests: Request | Callable[[int], Request],
    *,
    total: int,
    concurrency: int = 8,
    time_limit: float = 30.0,
    host: str = "127.0.0.1",
    ok_statuses: tuple[int, ...] = (200,),
    timeout: float = 10.0,
) -> LoadResult:
    """Send ``total`` requests from ``concurrency`` threads, each with its own keep-alive
    http.client connection (reopened when the server closes it), and stop early at
    ``time_limit`` seconds. ``requests`` is one request or a function of the request's index
    (0..total-1) so each request can differ (unique ids). Loopback only. Latencies cover
    sending the request and reading the whole response."""
    _check_loopback(host)
    if total < 1 or concurrency < 1:
        raise ValueError("total and concurrency must be at least 1")
    make = requests if callable(requests) else (lambda _i: requests)
    lock = threading.Lock()
    counter = iter(range(total))
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors = [0]
    first_error: list[str] = []
    start = time.perf_counter()
    deadline = start + time_limit
    stopped = threading.Event()

    def next_index() -> int | None:
        if time.perf_counter() >= deadline:
            stopped.set()
            return None
        with lock:
            return next(counter, None)

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        mine: list[float] = []
        try:
            while (index := next_index()) is not None:
                method, path, body, headers = make(index)
                began = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers or {})
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()  # the next request opens a fresh connection
                    with lock:
                        errors[0] += 1
                        statuses["error"] += 1
                        if not first_error:
                            first_error.append(f"{method} {path}: {exc!r}")
                    continue
                mine.append(time.perf_counter() - began)
                with lock:
                    statuses[response.status] += 1
                    if response.status not in ok_statuses:
                        errors[0] += 1
                        if not first_error:
                            first_error.append(f"{method} {path}: HTTP {response.status}")
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, total))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + timeout + 5)
    seconds = time.perf_counter() - start
    ok = sum(n for status, n in statuses.items() if status in ok_statuses)
    return LoadResult(
        requests=len(latencies),
        ok=ok,
        errors=errors[0],
        seconds=seconds,
        rps=ok / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        statuses={str(k): v for k, v in sorted(statuses.items(), key=str)},
        stopped_by_time=stopped.is_set(),
        first_error=first_error[0] if first_error else "",
        latencies=latencies,
    )


# ---- Django -------------------------------------------------------------------------------------


def database_vendor() -> str:
    from django.db import connection

    return connection.vendor


def require_postgresql() -> None:
    """Raise Skip unless the default database is PostgreSQL (call from run())."""
    vendor = database_vendor()
    if vendor != "postgresql":
        raise Skip(f"needs PostgreSQL, the default database is {vendor} (run it with `make bench`)")
