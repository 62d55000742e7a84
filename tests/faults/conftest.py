"""The fault tests' own fixture: the app deployed on the session's stack, and put back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.deploy import Deployer


@pytest.fixture
def app(deployer: Deployer) -> Iterator[Deployer]:
    """The app deployed in asgi mode before the test, and again after it if the test left
    it unhealthy (a killed Granian stays down: supervisord never restarts it)."""
    proc = deployer.deploy("asgi")
    assert proc.returncode == 0, proc.stdout[-3000:]
    yield deployer
    status, _ = deployer.get("/health/")
    if status != 200:
        again = deployer.deploy("asgi")
        assert again.returncode == 0, again.stdout[-3000:]
