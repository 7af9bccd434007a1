"""The Images page, loading an image as a Celery task, kind clusters mapped to portal clusters, permissions."""

import pytest

from clusters.models import Cluster, Operation
from portal.models import AuditEvent
from tests.images.conftest import wait_for


@pytest.fixture
def kind_lab(make_cluster, kube_api):
    cluster = make_cluster(kube_api)
    cluster.kind_cluster = "lab"
    cluster.save()
    return cluster


def test_images_page_lists_images_and_kind_clusters(login, viewer, standins, kind_lab):
    response = login(viewer).get("/clusters/images/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "myenv-image:latest" in html and "7.62GB" in html and "2025-09-18 02:53:29 +0000 UTC" in html
    assert 'data-kind-cluster="lab"' in html
    assert "Load into a kind cluster" not in html, "viewers see no load action"


def test_search_returns_the_table_for_htmx(login, viewer, standins):
    response = login(viewer).get("/clusters/images/?q=busy", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="images-table")
    html = response.content.decode()
    assert html.startswith('<div id="images-table">') and "busybox:1.36" in html and "myenv-image" not in html
    assert "<html" not in html


def test_kind_clusters_are_mapped_to_portal_clusters(login, admin_user, standins, kind_lab):
    standins.update_state(clusters={"lab": {"workers": 3, "loaded": []}, "dl-cluster": {"workers": 2, "loaded": []}})
    html = login(admin_user).get("/clusters/images/").content.decode()
    lab_row = html.split('data-kind-cluster="lab"')[1].split("</tr>")[0]
    assert kind_lab.name in lab_row
    dl_row = html.split('data-kind-cluster="dl-cluster"')[1].split("</tr>")[0]
    assert "not in the portal" in dl_row and "kind-dl-cluster" in dl_row


def test_no_docker_engine_is_said_plainly(login, viewer, standins):
    standins.update_state(engine="down")
    response = login(viewer).get("/clusters/images/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "docker is installed but no Docker engine answers (is the daemon running?)." in html
    assert "kind needs Docker, but no Docker engine answers" in html


def test_no_docker_at_all(login, viewer, tmp_path, monkeypatch):
    from tests.support.bin import StandIns

    monkeypatch.setenv("PATH", StandIns(tmp_path, missing={"docker", "kind"}).path)
    html = login(viewer).get("/clusters/images/").content.decode()
    assert "Docker is not installed on the portal&#x27;s server" in html
    assert "kind is not installed on the portal&#x27;s server" in html


@pytest.mark.django_db(transaction=True)
def test_load_an_image_as_a_celery_task(login, admin_user, standins, kind_lab, celery_worker):
    response = login(admin_user).post("/clusters/images/load/", {"image": "myenv-image:latest",
                                                                "cluster": kind_lab.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    operation = Operation.objects.get()
    assert f'ws-connect="/ws/live/operation/{operation.pk}/"' in response.content.decode()
    wait_for(operation)
    assert operation.state == "succeeded", operation.message
    assert operation.progress == 100
    assert operation.message == "Image myenv-image:latest is on every node of kind cluster lab."
    assert sum("not yet present on node" in r["message"] for r in operation.results) == 4
    assert standins.calls("kind") == [["load", "docker-image", "myenv-image:latest", "--name", "lab"]]
    assert list(AuditEvent.objects.order_by("id").values_list("action", "outcome", "actor_name", "cluster")) == [
        ("image.load", "ok", "ada", "lab"), ("image.load.result", "ok", "ada", "lab")]


@pytest.mark.django_db(transaction=True)
def test_a_failed_load_ends_the_operation_with_the_reason(login, admin_user, standins, kind_lab, celery_worker):
    standins.update_state(clusters={})
    login(admin_user).post("/clusters/images/load/", {"image": "busybox:1.36", "cluster": kind_lab.pk})
    operation = wait_for(Operation.objects.get())
    assert operation.state == "failed"
    assert operation.message == 'kind load docker-image failed: ERROR: no nodes found for cluster "lab"'
    assert AuditEvent.objects.get(action="image.load.result").outcome == "error"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_load_images(request, login, standins, kind_lab, role):
    user = request.getfixturevalue(role)
    response = login(user).post("/clusters/images/load/", {"image": "busybox:1.36", "cluster": kind_lab.pk})
    assert response.status_code == 403
    assert not Operation.objects.exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.target, event.cluster) == ("image.load", "denied", "busybox:1.36", "lab")
    assert standins.calls() == []


@pytest.mark.parametrize("image,message", [
    ("--help", "is not an image reference"), ("", "is not an image reference"),
])
def test_bad_image_references_are_refused(login, admin_user, standins, kind_lab, image, message):
    response = login(admin_user).post("/clusters/images/load/", {"image": image, "cluster": kind_lab.pk}, follow=True)
    assert message in response.content.decode()
    assert not Operation.objects.exists()
    assert not [c for c in standins.calls("kind") if c[0] == "load"]


def test_a_cluster_that_is_not_kind_is_refused(login, admin_user, standins, make_cluster, kube_api):
    cluster = make_cluster(kube_api, name="prod", context="prod")
    response = login(admin_user).post("/clusters/images/load/", {"image": "busybox:1.36", "cluster": cluster.pk},
                                      follow=True)
    assert "prod is not a kind cluster" in response.content.decode()
    assert not Operation.objects.exists()


def test_unknown_cluster_is_404(login, admin_user, standins):
    assert login(admin_user).post("/clusters/images/load/", {"image": "busybox:1.36", "cluster": "999"}).status_code == 404
    assert login(admin_user).post("/clusters/images/load/", {"image": "busybox:1.36", "cluster": "x"}).status_code == 404
    assert Cluster.objects.count() == 0
