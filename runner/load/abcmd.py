"""ApacheBench 2.3's command line."""

from __future__ import annotations

from urllib.parse import urlsplit

AB_MAX_CONCURRENCY = 20000  # ab's own MAX_CONCURRENCY


def _check_load(requests: int, concurrency: int) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number of at least 1, not {concurrency!r}")
    if concurrency > AB_MAX_CONCURRENCY:
        raise ValueError(f"concurrency {concurrency} is above ab's limit of {AB_MAX_CONCURRENCY}")
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < concurrency:
        raise ValueError(
            f"requests ({requests!r}) must be at least the concurrency ({concurrency}): "
            "ab refuses fewer requests than concurrent clients"
        )


def ab_argv(
    url: str,
    requests: int,
    concurrency: int,
    *,
    keepalive: bool,
    timeout_s: int,
    gnuplot_tsv: str | None = None,
    duration_s: int | None = None,
    variable_length: bool = False,
) -> list[str]:
    """The argv of one ab run: -r (socket receive errors are counted, not fatal), -s (the
    per-request timeout), -e/-g (machine-readable percentiles and per-request rows) and -k
    when connections are reused. With `duration_s`, a time-based run `ab -t D -n CAP`:
    -t comes first because on its own it sets the cap to 50,000 requests (ab.c), which
    the plain page reaches within 10 s; the -n after it is the real cap."""
    _check_load(requests, concurrency)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path:
        raise ValueError(f"ab needs a URL like http://host:port/path/ (with a path), not {url!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) or timeout_s < 1:
        raise ValueError(f"timeout_s must be a whole number of seconds >= 1, not {timeout_s!r}")
    argv = ["ab"]
    if duration_s is not None:
        if isinstance(duration_s, bool) or not isinstance(duration_s, int) or duration_s < 1:
            raise ValueError(f"ab's -t takes whole seconds >= 1, not {duration_s!r}")
        argv += ["-t", str(duration_s)]
    argv += ["-n", str(requests), "-r", "-s", str(timeout_s), "-c", str(concurrency)]
    if keepalive:
        argv.append("-k")
    if variable_length:  # -l: a changed body length is not a failed request
        argv.append("-l")
    if gnuplot_tsv:
        argv += ["-g", gnuplot_tsv]
    argv.append(url)
    return argv
