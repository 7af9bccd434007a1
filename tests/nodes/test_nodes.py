"""Discovery, node cards, agent registration, usage samples and charts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from nodes import services, tasks
from nodes.models import Node, NodeSample
from portal.models import AuditEvent

from .conftest import AGENT_NAMESPACE, TOKEN, add_agent_pod


def test_discovery_maps_agent_pods_to_nodes_and_says_which_have_none(lab, login, viewer):
    nodes = {n.name: n for n in Node.objects.filter(cluster=lab.cluster)}
    assert set(nodes) == {"lab-control-plane", "lab-worker", "lab-worker2"}
    assert nodes["lab-worker"].pod_namespace == AGENT_NAMESPACE and nodes["lab-worker"].pod_name
    assert nodes["lab-control-plane"].status == Node.Status.MISSING

    client = login(viewer)
    page = client.get("/nodes/")
    assert page.status_code == 200
    assert 'hx-get="/nodes/cards/?cluster=%s"' % lab.cluster.pk in page.content.decode()
    cards = client.get(f"/nodes/cards/?cluster={lab.cluster.pk}").content.decode()
    assert cards.count('data-status="ok"') >= 2  # the two workers' cards and badges
    assert 'data-testid="cpu"' in cards and 'data-testid="memory"' in cards and 'data-testid="disk"' in cards
    assert "No agent pod runs on this node" in cards


def test_an_agent_that_does_not_answer_is_unreachable_with_the_reason_and_others_still_refresh(lab, settings):
    add_agent_pod(lab.api, "lab-control-plane", "http://127.0.0.1:9", name="volcano-portal-agent-dead")
    try:
        services.discover_nodes(lab.cluster)
        usages = {u.node.name: u for u in services.refresh_nodes(services.nodes_of(lab.cluster))}
    finally:
        lab.api.delete("v1", "Pod", "volcano-portal-agent-dead", AGENT_NAMESPACE)
    dead = usages["lab-control-plane"]
    assert dead.status == Node.Status.UNREACHABLE and "lab-control-plane" in dead.message
    assert "connection refused" in dead.message or "reach" in dead.message
    assert usages["lab-worker"].ok and usages["lab-worker2"].ok
    assert Node.objects.get(name="lab-control-plane").status == Node.Status.UNREACHABLE


def test_a_different_agent_version_is_flagged(lab, settings):
    settings.AGENT_EXPECTED_VERSION = "9.9.9"
    usage = services.refresh_nodes([lab.worker1])[0]
    assert usage.status == Node.Status.VERSION and "9.9.9" in usage.message and usage.resources


def test_a_wrong_token_is_named_plainly(lab):
    config = lab.cluster.agent_config
    config.token = "wrong-token-wrong-token"
    config.save()
    lab.worker1.cluster.agent_config.token = config.token
    usage = services.refresh_nodes([lab.worker1])[0]
    assert usage.status == Node.Status.UNREACHABLE and "token" in usage.message


def test_admin_registers_an_agent_by_url_and_its_token_is_never_shown(lab, login, admin_user, operator):
    agent = lab.agents["lab-worker"]
    response = login(operator).post("/nodes/register/", {"name": "bare", "url": agent.url, "token": TOKEN})
    assert response.status_code == 403 and not Node.objects.filter(name="bare").exists()

    client = login(admin_user)
    response = client.post("/nodes/register/", {"name": "bare", "url": agent.url, "token": TOKEN}, follow=True)
    node = Node.objects.get(name="bare")
    assert node.cluster is None and node.status == Node.Status.OK and node.agent_version
    assert TOKEN not in response.content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM nodes_node WHERE name = 'bare'")
        assert TOKEN not in cursor.fetchone()[0]
    assert AuditEvent.objects.filter(action="node.register", target="bare", outcome="ok").exists()
    listing = client.get(f"/nodes/{node.pk}/files/")
    assert listing.status_code == 200 and 'data-testid="file-list"' in listing.content.decode()
    page = client.get("/nodes/").content.decode()
    assert "bare" in page and TOKEN not in page


def test_agent_settings_keep_the_token_when_left_empty(lab, login, admin_user, viewer):
    assert login(viewer).post(f"/nodes/settings/{lab.cluster.pk}/", {"namespace": "x", "port": 1}).status_code == 403
    client = login(admin_user)
    client.post(f"/nodes/settings/{lab.cluster.pk}/", {"namespace": AGENT_NAMESPACE, "port": 8700, "token": ""})
    lab.cluster.agent_config.refresh_from_db()
    assert lab.cluster.agent_config.token == TOKEN
    assert TOKEN not in client.get("/nodes/").content.decode()


def test_sampling_stores_usage_prunes_old_samples_and_draws_charts(lab, login, viewer, settings):
    old = NodeSample.objects.create(node=lab.worker1, at=timezone.now() - timedelta(days=8), cpu_percent=1)
    result = tasks.sample_nodes()
    assert result["samples"] == 2 and result["pruned"] == 1
    assert not NodeSample.objects.filter(pk=old.pk).exists()
    sample = NodeSample.objects.filter(node=lab.worker1).get()
    assert sample.cpu_percent is not None and sample.memory_percent is not None
    NodeSample.objects.create(node=lab.worker1, at=timezone.now() - timedelta(minutes=30), cpu_percent=50,
                              memory_percent=40, gpus=[{"index": 0, "utilization_percent": 70,
                                                        "memory_used": 2, "memory_total": 8}])
    page = login(viewer).get(f"/nodes/{lab.worker1.pk}/?range=hour").content.decode()
    assert page.count("<polyline") >= 4  # CPU, memory, GPU 0 utilisation and memory
    assert login(viewer).get(f"/nodes/{lab.worker1.pk}/?range=week").status_code == 200


def test_the_beat_schedule_samples_and_resyncs():
    from django.conf import settings

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"nodes.tasks.sample_nodes", "nodes.tasks.sync_active_runs"} <= tasks_scheduled
    assert settings.CELERY_BEAT_SCHEDULE["nodes-sample-usage"]["schedule"] == settings.NODE_SAMPLE_SECONDS


@pytest.mark.parametrize("url", ["/nodes/", "/nodes/files/", "/nodes/runs/"])
def test_pages_need_a_role(lab, login, make_user, url):
    assert login(make_user("nobody")).get(url).status_code == 403
