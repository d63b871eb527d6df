"""Several NATS URLs (a cluster's nodes) in one setting, and a cluster node's configuration
(issue 16)."""

from __future__ import annotations

from pathlib import Path

from devstack.servers import ClusterNode
from petitions.messaging.security import NatsAccess, access
from petitions.messaging.subjects import stream_config


def test_a_url_list_connects_to_every_node_as_the_first_urls_user() -> None:
    found = access("nats://admin:s3cret@127.0.0.1:4222,nats://127.0.0.1:4223, nats://h:4224")
    assert found.url == "nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://h:4224"
    options = found.options()
    assert options["servers"] == [
        "nats://127.0.0.1:4222",
        "nats://127.0.0.1:4223",
        "nats://h:4224",
    ]
    assert (options["user"], options["password"]) == ("admin", "s3cret")
    assert "s3cret" not in repr(found)


def test_one_url_stays_one_server() -> None:
    assert NatsAccess("nats://127.0.0.1:4222").options() == {"servers": ["nats://127.0.0.1:4222"]}


def test_a_cluster_node_routes_to_the_others_and_syncs_every_write(tmp_path: Path) -> None:
    text = ClusterNode("n2", 6002, [6001, 6003]).render(tmp_path / "node-2")
    assert "server_name: n2" in text
    assert "listen: 127.0.0.1:6002" in text
    assert "routes: [nats-route://127.0.0.1:6001, nats-route://127.0.0.1:6003]" in text
    assert "sync_interval: always" in text
    assert str(tmp_path / "node-2") in text


def test_the_stream_has_the_replicas_asked_for() -> None:
    assert stream_config().num_replicas == 1
    assert stream_config(replicas=3).num_replicas == 3
