"""The runner reads hosts through `ansible-inventory --list`, and refuses a bad inventory."""

import textwrap

import pytest

from runner.inventory import InventoryError, load_inventory, parse_inventory_json

GOOD = textwrap.dedent(
    """\
    all:
      children:
        app:
          hosts:
            web:
              ansible_host: 198.18.0.10
              ansible_user: root
              ansible_ssh_private_key_file: /tmp/key
              ansible_ssh_common_args: "-o UserKnownHostsFile=/tmp/known_hosts"
              private_address: 198.18.0.10
              bench_root: /srv/bench
              app_port: 8000
              machine_class: {name: local, cpus: 1, memory_mib: 4096}
        loadgen:
          hosts:
            lg1:
              ansible_host: 198.18.0.21
              private_address: 198.18.0.21
              bench_root: /srv/lg
    """
)


def test_reads_the_contract_through_ansible_inventory(tmp_path):
    path = tmp_path / "inv.yml"
    path.write_text(GOOD)
    inv = load_inventory(path, ansible_inventory=".venv/bin/ansible-inventory")
    assert inv.app.name == "web"
    assert inv.app.known_hosts_file == "/tmp/known_hosts"
    assert inv.app.machine_class["cpus"] == 1
    assert [h.name for h in inv.loadgens] == ["lg1"]
    assert inv.app_url("/health/") == "http://198.18.0.10:8000/health/"


def test_missing_and_empty_inventories_say_what_to_do(tmp_path):
    with pytest.raises(InventoryError, match="does not exist: run `terraform"):
        load_inventory(tmp_path / "none.yml")
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    with pytest.raises(InventoryError, match="is empty"):
        load_inventory(empty)


def test_groups_and_variables_are_required():
    with pytest.raises(InventoryError, match="no host in group 'app'"):
        parse_inventory_json({"loadgen": {"hosts": ["a"]}}, "x.yml")
    with pytest.raises(InventoryError, match="no host in group 'loadgen'"):
        parse_inventory_json({"app": {"hosts": ["a"]}}, "x.yml")
    data = {
        "app": {"hosts": ["a"]},
        "loadgen": {"hosts": ["b"]},
        "_meta": {"hostvars": {"a": {"ansible_host": "x"}, "b": {}}},
    }
    with pytest.raises(InventoryError, match="host a lacks private_address, bench_root"):
        parse_inventory_json(data, "x.yml")
