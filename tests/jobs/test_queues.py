"""Volcano queues: the list, and create / open / close / delete for administrators."""

import asyncio

import pytest

from portal.models import AuditEvent
from tests.jobs.conftest import COMMAND, QUEUE
from tests.support.k8s_seed import make_queue


@pytest.fixture
def queue_post(login, django_capture_on_commit_callbacks, eager_tasks):
    def post(user, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return login(user).post(url, data or {}, follow=True)

    return post


@pytest.mark.django_db
def test_the_queues_list(login, viewer, lab, lab_api):
    queue = make_queue("research", weight=4, capability={"cpu": "16", "memory": "64Gi", "nvidia.com/gpu": "4"})
    queue["spec"]["deserved"] = {"cpu": "8"}
    queue["status"].update(state="Closing", allocated={"cpu": "2", "memory": "4Gi"}, running=3, pending=1, inqueue=2)
    lab_api.put(queue)
    page = login(viewer).get("/jobs/queues/").content.decode()
    assert 'id="queue-research-state" data-state="Closing"' in page
    assert "CPU 16, memory 64Gi, GPU 4" in page and "CPU 8" in page and "CPU 2, memory 4Gi" in page
    assert "3 / 1 / 2" in page
    assert 'id="queue-default-state" data-state="Open"' in page
    assert "Create a queue" not in page and "Delete" not in page  # viewers only look


@pytest.mark.django_db
def test_an_admin_creates_a_queue(queue_post, admin_user, lab, lab_api):
    page = queue_post(admin_user, "/jobs/queues/create/", {
        "cluster": lab.pk, "name": "research", "weight": "3", "capability_cpu": "8", "capability_gpu": "2"}).content.decode()
    assert "Creating queue research." in page
    queue = lab_api.get(*QUEUE, "research")
    assert queue["spec"] == {"weight": 3, "reclaimable": False, "capability": {"cpu": "8", "nvidia.com/gpu": "2"}}
    assert AuditEvent.objects.get(action="queue.create.result").outcome == "ok"


@pytest.mark.django_db
def test_a_taken_queue_name_is_said(queue_post, admin_user, lab, lab_api):
    queue_post(admin_user, "/jobs/queues/create/", {"cluster": lab.pk, "name": "default", "weight": "1"})
    result = AuditEvent.objects.get(action="queue.create.result")
    assert (result.outcome, result.message) == ("error", "A queue named default already exists in cluster lab.")


@pytest.mark.django_db
def test_a_bad_queue_is_refused_before_sending(queue_post, admin_user, lab, lab_api):
    page = queue_post(admin_user, "/jobs/queues/create/", {
        "cluster": lab.pk, "name": "q", "weight": "0", "capability_memory": "lots"}).content.decode()
    assert "Weight: Ensure this value is greater than or equal to 1." in page
    page = queue_post(admin_user, "/jobs/queues/create/", {
        "cluster": lab.pk, "name": "q", "weight": "1", "capability_memory": "lots"}).content.decode()
    assert 'capability.memory &quot;lots&quot; must be a quantity such as 500m, 2 or 4Gi' in page
    assert lab_api.get(*QUEUE, "q") is None
    assert AuditEvent.objects.get(action="queue.create").outcome == "error"


@pytest.mark.django_db
@pytest.mark.parametrize("action,command_action", [("close", "CloseQueue"), ("open", "OpenQueue")])
def test_open_and_close_send_queue_commands(queue_post, admin_user, lab, lab_api, action, command_action):
    lab_api.put(make_queue("research"))
    queue = lab_api.get(*QUEUE, "research")
    queue_post(admin_user, f"/jobs/queues/{lab.pk}/research/{action}/")
    [command] = lab_api.list(*COMMAND, "default")
    reference = {"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue", "name": "research",
                 "uid": queue["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
    assert (command["action"], command["target"], command["metadata"]["ownerReferences"]) == (
        command_action, reference, [reference])
    assert command["metadata"]["name"].startswith(f"research-{command_action.lower()}-")
    assert AuditEvent.objects.get(action=f"queue.{action}.result").outcome == "ok"


@pytest.mark.django_db
def test_delete_a_queue_but_never_the_default_one(queue_post, admin_user, lab, lab_api):
    lab_api.put(make_queue("research", state="Closed"))
    queue_post(admin_user, f"/jobs/queues/{lab.pk}/research/delete/")
    assert lab_api.get(*QUEUE, "research") is None
    page = queue_post(admin_user, f"/jobs/queues/{lab.pk}/default/delete/").content.decode()
    assert "Volcano does not allow deleting the default queue." in page
    assert lab_api.get(*QUEUE, "default") is not None


@pytest.mark.django_db
def test_operators_cannot_manage_queues(queue_post, operator, lab, lab_api):
    response = queue_post(operator, f"/jobs/queues/{lab.pk}/default/close/")
    assert response.status_code == 403
    assert AuditEvent.objects.get(action="queue.close").outcome == "denied"
    assert lab_api.list(*COMMAND) == []


async def receive_two(layer, channel):
    messages = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(2)]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.5)
    return messages


@pytest.mark.django_db
def test_queue_state_changes_are_pushed(lab, lab_api):
    from channels.layers import get_channel_layer
    from asgiref.sync import async_to_sync

    from jobs.tasks import sync_cluster
    from portal import live

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.group_name("queues", lab.pk), channel)
    try:
        sync_cluster(lab)
        lab_api.patch_status(*QUEUE, "default", {"state": "Closed"})
        sync_cluster(lab)
        sync_cluster(lab)  # nothing changed: nothing pushed
        first, second = async_to_sync(receive_two)(layer, channel)
    finally:
        async_to_sync(layer.group_discard)(live.group_name("queues", lab.pk), channel)
    assert 'data-state="Open"' in first["html"]["en"]
    assert 'id="queue-default-state" data-state="Closed" hx-swap-oob="true"' in second["html"]["en"]
