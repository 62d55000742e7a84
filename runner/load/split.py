"""How one load is shared across N load-generator hosts that run at once."""

from __future__ import annotations

from dataclasses import replace

from runner.load.base import LoadSpec, LoadSpecError


def split_counts(requests: int, concurrency: int, n_hosts: int) -> list[tuple[int, int]]:
    """Share (requests, concurrency) across n_hosts, in proportion: every host gets at
    least 1 client and at least as many requests as clients, and the shares add up to the
    totals exactly."""
    if isinstance(n_hosts, bool) or not isinstance(n_hosts, int) or n_hosts < 1:
        raise LoadSpecError(f"there must be at least one load generator, not {n_hosts!r}")
    if concurrency < n_hosts:
        raise LoadSpecError(
            f"concurrency {concurrency} is below the {n_hosts} load generators: each needs "
            "at least one client; raise --concurrency (or use fewer load-generator hosts)"
        )
    if requests < concurrency:
        raise LoadSpecError(
            f"requests ({requests}) must be at least the concurrency ({concurrency})"
        )
    base, extra = divmod(concurrency, n_hosts)
    conc = [base + (1 if i < extra else 0) for i in range(n_hosts)]
    # floor(requests * c_i / concurrency) >= c_i because requests >= concurrency
    reqs = [requests * c // concurrency for c in conc]
    for i in range(requests - sum(reqs)):
        reqs[i % n_hosts] += 1
    return list(zip(reqs, conc, strict=True))


def split_spec(spec: LoadSpec, n_hosts: int) -> list[LoadSpec]:
    """`spec` shared across n_hosts: clients and requests in proportion (see
    `split_counts`), an offered rate in proportion to the clients; a duration is kept."""
    if spec.requests is None:
        counts = [(0, c) for _, c in split_counts(spec.concurrency, spec.concurrency, n_hosts)]
    else:
        counts = split_counts(spec.requests, spec.concurrency, n_hosts)
    out = []
    for n, c in counts:
        rate = spec.rate * c / spec.concurrency if spec.rate is not None else None
        requests = n if spec.requests is not None else None
        out.append(replace(spec, concurrency=c, requests=requests, rate=rate))
    return out
