"""Before any traffic, a lab address must sit in one of our namespaces behind a bridge."""

import pytest

from runner.netsafety import UnsafeTargetError, check_lab_address


def test_a_lab_address_with_no_namespace_is_refused():
    # 198.19.255.254 is in the lab range and no stack of ours ever uses it.
    with pytest.raises(UnsafeTargetError, match="no network namespace on this machine holds"):
        check_lab_address("198.19.255.254")


def test_addresses_outside_the_lab_range_are_not_local_hosts():
    check_lab_address("127.0.0.1")  # loopback: nothing to check, nothing sent


def test_a_bad_address_is_refused():
    with pytest.raises(ValueError):
        check_lab_address("not-an-address")
