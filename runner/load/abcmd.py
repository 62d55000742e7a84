"""ApacheBench 2.3's command line, and how to split one load across N load generators."""

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
    percentiles_csv: str | None = None,
    gnuplot_tsv: str | None = None,
) -> list[str]:
    """The argv of one ab run: -r (socket receive errors are counted, not fatal), -s (the
    per-request timeout), -e/-g (machine-readable percentiles and per-request rows) and -k
    when connections are reused."""
    _check_load(requests, concurrency)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path:
        raise ValueError(f"ab needs a URL like http://host:port/path/ (with a path), not {url!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) or timeout_s < 1:
        raise ValueError(f"timeout_s must be a whole number of seconds >= 1, not {timeout_s!r}")
    argv = ["ab", "-r", "-s", str(timeout_s), "-n", str(requests), "-c", str(concurrency)]
    if keepalive:
        argv.append("-k")
    if percentiles_csv:
        argv += ["-e", percentiles_csv]
    if gnuplot_tsv:
        argv += ["-g", gnuplot_tsv]
    argv.append(url)
    return argv


def split_load(requests: int, concurrency: int, n_hosts: int) -> list[tuple[int, int]]:
    """Share (requests, concurrency) across n_hosts load generators, in proportion:
    every host gets at least 1 client and at least as many requests as clients, and the
    shares add up to the totals exactly."""
    _check_load(requests, concurrency)
    if isinstance(n_hosts, bool) or not isinstance(n_hosts, int) or n_hosts < 1:
        raise ValueError(f"there must be at least one load generator, not {n_hosts!r}")
    if concurrency < n_hosts:
        raise ValueError(
            f"concurrency {concurrency} cannot be split across {n_hosts} load generators: "
            f"use a concurrency of at least {n_hosts}, or fewer load-generator hosts"
        )
    base, extra = divmod(concurrency, n_hosts)
    conc = [base + (1 if i < extra else 0) for i in range(n_hosts)]
    # floor(requests * c_i / concurrency) >= c_i because requests >= concurrency
    reqs = [requests * c // concurrency for c in conc]
    for i in range(requests - sum(reqs)):
        reqs[i % n_hosts] += 1
    return list(zip(reqs, conc, strict=True))
