"""ab's command line and the split of one load across load generators."""

from __future__ import annotations

import itertools
import subprocess

import pytest

from runner.load.abcmd import ab_argv
from runner.load.split import split_counts as split_load


def test_argv_has_every_flag_the_runner_needs():
    argv = ab_argv(
        "http://198.18.0.10:8000/users/sync/",
        400,
        5,
        keepalive=False,
        timeout_s=30,
        gnuplot_tsv="r.tsv",
    )
    assert argv[0] == "ab" and argv[-1] == "http://198.18.0.10:8000/users/sync/"
    assert "-r" in argv and "-k" not in argv
    pairs = dict(itertools.pairwise(argv))
    assert pairs["-s"] == "30" and pairs["-n"] == "400" and pairs["-c"] == "5"
    assert pairs["-g"] == "r.tsv" and "-e" not in argv
    assert "-k" in ab_argv("http://h:1/", 2, 1, keepalive=True, timeout_s=1)


def test_time_based_argv_puts_t_before_the_cap():
    argv = ab_argv("http://h:1/x/", 900, 5, keepalive=False, timeout_s=30, duration_s=10)
    assert argv[:5] == ["ab", "-t", "10", "-n", "900"]
    with pytest.raises(ValueError, match="whole seconds"):
        ab_argv("http://h:1/x/", 900, 5, keepalive=False, timeout_s=30, duration_s=0)


def test_the_real_ab_honours_the_cap_after_t(tmp_path):
    """-n after -t is the cap (before it, -t would reset the cap to 50,000)."""
    import http.server
    import threading

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x/"
        ours = ab_argv(url, 7, 1, keepalive=False, timeout_s=5, duration_s=5)
        out = subprocess.run(ours, capture_output=True, text=True, timeout=60, check=False)
        assert "Complete requests:      7" in out.stdout, out.stdout + out.stderr
        swapped = ["ab", "-n", "7", "-t", "1", *ours[5:]]  # what -n first would do
        out = subprocess.run(swapped, capture_output=True, text=True, timeout=60, check=False)
        complete = int(out.stdout.split("Complete requests:")[1].split()[0])
        assert complete > 7
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("url", "n", "c", "timeout", "message"),
    [
        ("http://h:1/", 5, 0, 30, "concurrency must be"),
        ("http://h:1/", 4, 5, 30, "at least the concurrency"),
        ("http://h:1/", 5, 30000, 30, "ab's limit"),
        ("http://h:1", 5, 1, 30, "with a path"),
        ("h:1/x", 5, 1, 30, "http://host:port/path/"),
        ("http://h:1/", 5, 1, 0, "timeout_s"),
    ],
)
def test_argv_refuses_what_ab_would(url, n, c, timeout, message):
    with pytest.raises(ValueError, match=message):
        ab_argv(url, n, c, keepalive=False, timeout_s=timeout)


def test_argv_is_accepted_by_the_real_ab(tmp_path):
    """ab parses our argv (against a closed port: -r makes refused connections counted)."""
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ab_argv(
        f"http://127.0.0.1:{port}/x/",
        4,
        2,
        keepalive=True,
        timeout_s=2,
        gnuplot_tsv=str(tmp_path / "r.tsv"),
    )
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert "Usage" not in out.stderr
    assert "Complete requests" in out.stdout


@pytest.mark.parametrize(
    ("n", "c", "hosts"),
    [(400, 5, 1), (300, 80, 2), (10, 3, 2), (7, 7, 3), (1001, 10, 3), (5, 2, 2)],
)
def test_split_load_adds_up_and_respects_ab(n, c, hosts):
    shares = split_load(n, c, hosts)
    assert len(shares) == hosts
    assert sum(r for r, _ in shares) == n
    assert sum(k for _, k in shares) == c
    for r, k in shares:
        assert k >= 1 and r >= k
    assert max(k for _, k in shares) - min(k for _, k in shares) <= 1


def test_split_load_refusals():
    with pytest.raises(ValueError, match="below the 2 load generators"):
        split_load(10, 1, 2)
    with pytest.raises(ValueError, match="at least one load generator"):
        split_load(10, 2, 0)
    with pytest.raises(ValueError, match="at least the concurrency"):
        split_load(3, 4, 1)
