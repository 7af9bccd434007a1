"""The live badge end to end: a real web server (uvicorn), a real Celery worker, real Redis, a real websocket."""


import pytest
import requests
import websocket
from django.test import Client

from clusters.models import Cluster
from portal.models import AuditEvent


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def open_live_socket(live_portal, path, cookie):
    return websocket.create_connection(
        live_portal.replace("http", "ws", 1) + path, cookie=f"sessionid={cookie}", origin=live_portal, timeout=15
    )


@pytest.mark.django_db(transaction=True)
def test_status_badge_updates_live_when_the_task_finishes(live_portal, celery_worker, make_user, make_cluster,
                                                          kube_api):
    cluster = make_cluster(kube_api)
    cookie = session_cookie(make_user("ada", "admin"))
    socket = open_live_socket(live_portal, f"/ws/live/cluster/{cluster.pk}/", cookie)
    try:
        http = requests.Session()
        http.cookies.set("sessionid", cookie)
        page = http.get(f"{live_portal}/clusters/", timeout=10)
        assert f'ws-connect="/ws/live/cluster/{cluster.pk}/"' in page.text
        response = http.post(f"{live_portal}/clusters/{cluster.pk}/check/", timeout=10,
                             headers={"X-CSRFToken": http.cookies["csrftoken"], "HX-Request": "true"})
        assert response.status_code == 200 and 'data-status="checking"' in response.text
        opening = socket.recv()  # the state when the socket opened
        assert 'data-status="unknown"' in opening
        fragment = socket.recv()  # pushed by the worker through the channel layer
        while 'data-status="checking"' in fragment:  # the worker may not have finished yet
            fragment = socket.recv()
    finally:
        socket.close()
    assert f'id="cluster-{cluster.pk}-status"' in fragment
    assert 'data-status="ok"' in fragment and 'hx-swap-oob="true"' in fragment
    assert Cluster.objects.get().status == "ok"
    assert AuditEvent.objects.filter(action="cluster.check.result", outcome="ok").count() == 1


@pytest.mark.django_db(transaction=True)
def test_live_fragments_follow_the_pages_language(live_portal, make_user, make_cluster, kube_api):
    from portal import live

    cluster = make_cluster(kube_api)
    cookie = session_cookie(make_user("vera", "viewer"))
    socket = websocket.create_connection(
        live_portal.replace("http", "ws", 1) + f"/ws/live/cluster/{cluster.pk}/",
        cookie=f"sessionid={cookie}; django_language=zh-hans", origin=live_portal, timeout=15)
    try:
        assert "未检查" in socket.recv()  # the snapshot on opening, in the page's language
        cluster.status = Cluster.Status.OK
        live.notify_template(live.group_name("cluster", cluster.pk), "clusters/_status_badge.html",
                             {"cluster": cluster, "oob": True})
        fragment = socket.recv()
    finally:
        socket.close()
    assert "可访问" in fragment


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["anonymous", "no role"])
def test_live_sockets_need_a_user_with_a_role(live_portal, make_user, make_cluster, kube_api, who):
    cluster = make_cluster(kube_api)
    cookie = "" if who == "anonymous" else session_cookie(make_user("nobody"))
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        open_live_socket(live_portal, f"/ws/live/cluster/{cluster.pk}/", cookie)
    assert refused.value.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_live_sockets_refuse_unknown_objects_and_foreign_origins(live_portal, make_user):
    cookie = session_cookie(make_user("vera", "viewer"))
    for path in ("/ws/live/cluster/999/", "/ws/live/user/1/"):
        with pytest.raises(websocket.WebSocketBadStatusException):
            open_live_socket(live_portal, path, cookie)
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(live_portal.replace("http", "ws", 1) + "/ws/live/cluster/1/",
                                    cookie=f"sessionid={cookie}", origin="http://evil.example", timeout=5)
