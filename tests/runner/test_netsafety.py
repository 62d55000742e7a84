"""Before any traffic, a lab address must sit in one of our namespaces behind a bridge."""

import pytest

from runner import netsafety
from runner.netsafety import UnsafeTargetError, check_lab_address


def test_a_lab_address_with_no_namespace_is_refused():
    # 198.19.255.254 is in the lab range and no stack of ours ever uses it.
    with pytest.raises(UnsafeTargetError, match="no network namespace on this machine holds"):
        check_lab_address("198.19.255.254")


def test_addresses_outside_the_lab_range_are_not_local_hosts(monkeypatch):
    """Loopback and a cloud host's address are not ours to check: no namespace lookup,
    no route lookup (both would fail here)."""
    looked: list[str] = []

    def refuse(*args):
        looked.append(" ".join(map(str, args)))
        raise AssertionError("looked up")

    monkeypatch.setattr(netsafety, "namespace_holding", refuse)
    monkeypatch.setattr(netsafety, "_ip_json", refuse)
    assert check_lab_address("127.0.0.1") is None
    assert check_lab_address("10.0.1.5") is None
    assert looked == []
    with pytest.raises(AssertionError, match="looked up"):
        check_lab_address("198.18.0.10")  # the lab range is checked


def test_a_bad_address_is_refused():
    with pytest.raises(ValueError):
        check_lab_address("not-an-address")
