"""Shared fixtures: each module in tests/fixtures/ owns one kind of fixture."""

pytest_plugins = [
    "tests.fixtures.hosts",
    "tests.fixtures.deploy",
]
