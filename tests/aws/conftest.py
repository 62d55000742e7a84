"""Fixtures for the AWS path: the parsed HCL of infra/aws, and moto (in-process and server).

Nothing here may reach AWS: every fixture replaces the credentials with fake ones, points
at moto, and blanks the AWS config files, so a stray call fails instead of billing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.aws.awshelp import (
    AWS_DIR,
    FAKE_AWS_ENV,
    REGION,
    ROOT,
    free_port,
    load_module,
    scrubbed_env,
)


@pytest.fixture(scope="session")
def aws_module() -> dict[str, Any]:
    """infra/aws parsed with python-hcl2 (no terraform init: that would reach the registry)."""
    return load_module(AWS_DIR)


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region in this process; no endpoint of the caller survives."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    for key, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def ec2(fake_aws: None) -> Iterator[Any]:
    """An EC2 client on moto's in-process mock (mock_aws): every call stays in memory."""
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto in server mode on 127.0.0.1 and a free port; yields its URL, stops it after."""
    exe = shutil.which("moto_server", path=str(ROOT / ".venv" / "bin")) or shutil.which(
        "moto_server"
    )
    if exe is None:
        pytest.fail("moto_server not found: run `make setup` (moto[server] is in the lock)")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=scrubbed_env({}),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):  # bounded wait for the listener, at most ~30 s
            if proc.poll() is not None:
                pytest.fail(f"moto_server exited at start: {log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"moto_server did not listen on {url}: {log.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def moto_env(moto_server: str) -> Iterator[dict[str, str]]:
    """A subprocess environment that talks to the moto server only, on a reset moto."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    yield scrubbed_env({"AWS_ENDPOINT_URL": moto_server})


@pytest.fixture
def server_ec2(moto_env: dict[str, str]) -> Any:
    """An EC2 client on the moto server (to create what subprocesses then read)."""
    return boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=moto_env["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
