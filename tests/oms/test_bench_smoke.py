"""bench/common.py and bench/run.py without a database: the report's ratio arithmetic and JSON,
the percentile, the load generator against a tiny loopback server, and module discovery.
No timed assertions: only counts, statuses and arithmetic."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import common
from bench import run as bench_run


def test_report_prints_each_figure_beside_its_baseline_as_a_ratio(tmp_path):
    out = io.StringIO()
    report = common.Report(out_path=tmp_path / "results.json", stream=out)
    report.section("skeleton")

    fig = report.figure("orders accepted via API", 312, "/s", baseline=("raw INSERT", 9800), orders=1000)
    report.figure("tracking page p99", 42, " ms", baseline=("bare view p99", 8))
    report.figure("no baseline", 1500, "/s")
    report.note("sizes: 1000 orders")
    report.finish_section("ok", 1.5)
    path = report.write_json()

    assert fig.ratio == 312 / 9800
    lines = out.getvalue().splitlines()
    assert "  orders accepted via API: 312/s | raw INSERT: 9,800/s | ratio 0.032" in lines
    assert "  tracking page p99: 42 ms | bare view p99: 8 ms | ratio 5.25" in lines
    assert "  no baseline: 1,500/s" in lines
    assert "  - sizes: 1000 orders" in lines
    data = json.loads(path.read_text())
    section = data["modules"]["skeleton"]
    assert section["status"] == "ok"
    assert section["notes"] == ["sizes: 1000 orders"]
    assert [f["ratio"] for f in section["figures"]] == [312 / 9800, 42 / 8, None]
    assert section["figures"][0]["baseline"] == 9800.0
    assert section["figures"][0]["extra"] == {"orders": 1000}


def test_ratio_and_number_formatting():
    assert common.ratio(1, 4) == 0.25
    assert common.ratio(5, 0) is None
    assert common.fmt_number(None) == "n/a"
    assert common.fmt_number(9800) == "9,800"
    assert common.fmt_number(312.4) == "312"
    assert common.fmt_number(23.31) == "23.3"
    assert common.fmt_number(4.256) == "4.26"
    assert common.fmt_number(0.0318) == "0.032"
    assert common.fmt_number(0.00441) == "0.0044"


def test_percentile_is_nearest_rank():
    samples = [float(n) for n in range(1, 101)]
    assert common.percentile(samples, 50) == 50.0
    assert common.percentile(samples, 99) == 99.0
    assert common.percentile(samples, 100) == 100.0
    assert common.percentile([], 99) == 0.0
    assert common.percentile([7.0], 1) == 7.0


def test_repeat_calls_with_the_round_number():
    rounds = []
    timing = common.repeat(rounds.append, 3)
    assert rounds == [0, 1, 2]
    assert len(timing.runs) == 3
    assert timing.best <= timing.median


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a gthread gunicorn

    def do_GET(self):  # noqa: N802
        body = b"ok" if self.path == "/ok" else b"missing"
        self.send_response(200 if self.path == "/ok" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_load_generator_sends_exactly_the_requests_asked_for(local_server):
    result = common.http_load(local_server, ("GET", "/ok", None, None), total=60, concurrency=4, time_limit=30)

    assert result.requests == 60
    assert result.ok == 60
    assert result.errors == 0
    assert result.statuses == {"200": 60}
    assert result.stopped_by_time is False
    assert result.rps > 0
    assert 0 < result.p50_ms <= result.p99_ms


def test_load_generator_counts_unexpected_statuses_and_builds_requests_per_index(local_server):
    seen = []

    def make(i):
        seen.append(i)
        return ("POST", "/orders", f'{{"i": {i}}}'.encode(), {"Content-Type": "application/json"})

    posts = common.http_load(local_server, make, total=20, concurrency=3, ok_statuses=(201,))
    missing = common.http_load(local_server, ("GET", "/nope", None, None), total=5, concurrency=2)

    assert sorted(seen) == list(range(20))
    assert (posts.ok, posts.errors, posts.statuses) == (20, 0, {"201": 20})
    assert (missing.ok, missing.errors, missing.statuses) == (0, 5, {"404": 5})
    assert missing.first_error == "GET /nope: HTTP 404"
    assert missing.rps == 0


def test_load_generator_refuses_anything_but_loopback():
    with pytest.raises(ValueError, match="loopback"):
        common.http_load(80, ("GET", "/", None, None), total=1, host="example.com")


def test_runner_discovers_modules_skeleton_first_and_reads_run_from_the_source(tmp_path):
    (tmp_path / "alpha_bench.py").write_text("def run(report, quick):\n    pass\n")
    (tmp_path / "skeleton_bench.py").write_text("def run(report, quick):\n    pass\n")
    (tmp_path / "script_bench.py").write_text("raise SystemExit('would run at import')\n")
    (tmp_path / "helper.py").write_text("def run(report, quick):\n    pass\n")

    found = [(name, has_run) for name, _path, has_run in bench_run.discover(tmp_path)]

    assert found == [("skeleton", True), ("alpha", True), ("script", False)]


def test_runner_checks_the_run_contract():
    def good(report, quick):
        pass

    def old_style(orders=100):
        pass

    assert bench_run._contract_problem(good) == ""
    assert "does not take (report, quick)" in bench_run._contract_problem(old_style)


def test_merge_load_sums_rounds_and_takes_percentiles_over_all_latencies():
    a = common.LoadResult(
        requests=2, ok=2, errors=0, seconds=1.0, rps=2.0, p50_ms=0, p99_ms=0, statuses={"200": 2}, latencies=[0.1, 0.2]
    )
    b = common.LoadResult(
        requests=2, ok=1, errors=1, seconds=3.0, rps=1 / 3, p50_ms=0, p99_ms=0, statuses={"200": 1, "500": 1},
        stopped_by_time=True, first_error="GET /x: HTTP 500", latencies=[0.3, 0.4],
    )  # fmt: skip

    merged = common.merge_load([a, b])

    assert (merged.requests, merged.ok, merged.errors, merged.seconds) == (4, 3, 1, 4.0)
    assert merged.rps == 0.75
    assert merged.statuses == {"200": 3, "500": 1}
    assert merged.p50_ms == 200.0
    assert merged.p99_ms == 400.0
    assert merged.stopped_by_time is True
    assert merged.first_error == "GET /x: HTTP 500"
    assert "latencies" not in merged.summary()
