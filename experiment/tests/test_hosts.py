"""Where the system under test runs: the commands and addresses of each kind of host."""

import socket
from pathlib import Path

from experiment.model.results import NetworkRecord
from experiment.run.hosts import LocalHost, NetnsHost, difference, interface_counters

NETNS = NetnsHost(script=Path("scripts/netns.sh"), namespace="lab-sut", address="10.77.0.2", load_address="10.77.0.1",
                  interface="lab-sut-load", source_ips="10.77.0.11-10.77.0.18",
                  admin_url="postgres://postgres@127.0.0.1:54329/postgres",
                  pg_data_dir=Path(".lab/netns/pg/data"))


def test_a_local_host_runs_commands_as_they_are_on_the_loopback():
    host = LocalHost(admin_url="postgres://postgres@127.0.0.1:54329/postgres", pg_data_dir=None)
    assert host.command(["psql", "-c", "select 1"]) == ["psql", "-c", "select 1"]
    record = host.record()
    assert (record.mode, record.sut_address, record.interface, record.sut_namespace) == ("local", "127.0.0.1", "lo", None)


def test_a_netns_host_runs_commands_inside_its_namespace_and_is_reached_at_its_own_address():
    assert NETNS.command(["taskset", "-c", "0", "todo-service"]) == [
        "ip", "netns", "exec", "lab-sut", "taskset", "-c", "0", "todo-service"]
    assert NETNS.k6_options() == ["--local-ips", "10.77.0.11-10.77.0.18"]
    record = NETNS.record()
    assert (record.mode, record.sut_address, record.load_address, record.sut_namespace) == (
        "netns", "10.77.0.2", "10.77.0.1", "lab-sut")


def test_the_interface_counters_see_bytes_sent_through_the_interface():
    payload = b"x" * 200_000
    with socket.create_server(("127.0.0.1", 0)) as server:
        before = interface_counters("lo")
        with socket.create_connection(server.getsockname()) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(payload)
                received = 0
                while received < len(payload):
                    received += len(peer.recv(65536))
        moved = difference(before, interface_counters("lo"))
    assert moved.tx_bytes >= len(payload) and moved.rx_bytes >= len(payload)


def test_interface_counters_are_subtracted_field_by_field():
    moved = difference(NetworkRecord("lo", 100, 50), NetworkRecord("lo", 1100, 2050))
    assert (moved.interface, moved.rx_bytes, moved.tx_bytes) == ("lo", 1000, 2000)
