"""wrk behind the LoadGenerator interface, run for real against a loopback server: its
command line, the Lua script's JSON, the parse, the length check and the merge of two
hosts from histogram points."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from runner.load import LoadSpec, LoadSpecError, get_load_generator
from runner.load.base import HostRun
from runner.load.execute import parse_host

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is installed by make setup"),
]
WRK = get_load_generator("wrk")
BODY = b"<html>" + b"x" * 200 + b"</html>"


class _Page(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status = 404 if self.path == "/missing/" else 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(BODY)))
        if self.headers.get("Connection", "").lower() == "close":  # as servers answer it
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def run_wrk(tmp: Path, spec: LoadSpec) -> HostRun:
    """What the executor does on a host, here: support files, the command, its files."""
    tmp.mkdir(parents=True, exist_ok=True)
    for name, text in WRK.support_files(spec).items():
        (tmp / name).write_text(text)
    cmd = WRK.command(spec)
    with open(tmp / cmd.stdout, "w") as out, open(tmp / cmd.stderr, "w") as err:
        rc = subprocess.run(cmd.argv, cwd=tmp, stdout=out, stderr=err, timeout=30).returncode
    return HostRun("lg1", spec, "", tmp, rc=rc)


def test_wrk_result_from_its_own_histogram(server, tmp_path):
    spec = LoadSpec(urls=(f"{server}/ok/",), concurrency=2, duration_s=1, expected_length=len(BODY))
    res = parse_host(WRK, run_wrk(tmp_path, spec))
    assert res.tool == "wrk" and res.latency_source == "histogram"
    assert res.completed > 10 and res.failed == 0 and res.non_2xx == 0
    assert not res.aborted
    assert res.document_length == len(BODY)
    lat = res.latency_ms
    assert lat is not None
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]
    assert res.rps == pytest.approx(res.completed / res.duration_s)


def test_wrong_length_and_status_are_counted(server, tmp_path):
    spec = LoadSpec(urls=(f"{server}/missing/",), concurrency=1, duration_s=1, expected_length=5)
    res = parse_host(WRK, run_wrk(tmp_path, spec))
    assert res.non_2xx == res.completed > 0
    assert res.failures["Length"] == res.completed
    assert res.document_length == len(BODY)


def test_two_hosts_merge_from_histogram_points(server, tmp_path):
    spec = LoadSpec(urls=(f"{server}/ok/",), concurrency=1, duration_s=1)
    a = parse_host(WRK, run_wrk(tmp_path / "a", spec))
    b = parse_host(WRK, run_wrk(tmp_path / "b", spec))
    merged = WRK.merge([a, b])
    assert merged.completed == a.completed + b.completed
    assert merged.duration_s == max(a.duration_s, b.duration_s)
    lat = merged.latency_ms
    assert lat is not None and lat["max"] == max(a.latency_ms["max"], b.latency_ms["max"])
    low = min(a.latency_ms["p50"], b.latency_ms["p50"])
    high = max(a.latency_ms["p50"], b.latency_ms["p50"])
    assert low <= lat["p50"] <= high  # a merged median lies between the hosts' medians


def test_wrk_refuses_what_it_cannot_run():
    with pytest.raises(LoadSpecError, match="duration"):
        WRK.check(LoadSpec(urls=("http://h:1/",), concurrency=1, requests=10))
    with pytest.raises(LoadSpecError, match="no --rate"):
        WRK.check(LoadSpec(urls=("http://h:1/",), concurrency=1, duration_s=1, rate=5))


def test_no_output_is_an_abort_with_the_reason(tmp_path):
    (tmp_path / "wrk.stderr").write_text("unable to connect to 127.0.0.1:1 Connection refused\n")
    spec = LoadSpec(urls=("http://127.0.0.1:1/",), concurrency=1, duration_s=1)
    res = WRK.parse(HostRun("lg1", spec, "", tmp_path))
    assert res.aborted and "Connection refused" in res.abort_reason
