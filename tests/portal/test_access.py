"""Login on every page, the role matrix, and the audit rows both leave."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from portal.models import AuditEvent

# The only pages a stranger may see.
PUBLIC = {"login", "healthz", "set_language"}
SAMPLE_ARGS = {"int": "1", "slug": "sample", "str": "sample", "path": "sample/file", "uuid": "00000000-0000-0000-0000-000000000000"}


def walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def concrete(route):
    """Turn a route (path converters or admin's regexes) into a URL with sample values."""
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS.get(m.group(1) or "str", "sample"), route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    return "/" + route.lstrip("^").rstrip("$").replace("\\", "")


ALL_URLS = sorted(set(walk(get_resolver().url_patterns)))


def test_the_url_conf_is_walked():
    routes = {route for route, _name in ALL_URLS}
    assert {"", "audit/", "clusters/", "clusters/add/", "clusters/<int:pk>/check/"} <= routes
    assert len(ALL_URLS) > 20  # the admin's pages are in the walk too


@pytest.mark.django_db
@pytest.mark.parametrize("route,name", ALL_URLS)
def test_every_page_needs_login(client, route, name):
    url = concrete(route)
    response = client.get(url)
    if name in PUBLIC:
        assert response.status_code in (200, 302, 405)
        return
    assert response.status_code == 302, url
    assert "/login/" in response["Location"], url


@pytest.mark.django_db
def test_health_answers_without_login_and_says_nothing_else(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_a_user_without_a_role_sees_no_page(login, make_user):
    client = login(make_user("nobody"))
    for url in ("/", "/clusters/", "/audit/"):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Ask an administrator" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_role_can_read(login, make_user, role):
    client = login(make_user(f"u-{role}", role))
    for url in ("/", "/clusters/", "/audit/"):
        assert client.get(url).status_code == 200, url


CLUSTER_ACTIONS = [
    ("cluster.add", "/clusters/add/", {"name": "x", "kubeconfig": "contexts: []"}),
    ("cluster.check", "/clusters/{pk}/check/", {}),
    ("cluster.delete", "/clusters/{pk}/delete/", {}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "operator"])
@pytest.mark.parametrize("action,url,data", CLUSTER_ACTIONS)
def test_only_admins_manage_clusters_and_denials_are_audited(login, make_user, cluster, role, action, url, data):
    user = make_user(f"u-{role}", role)
    response = login(user).post(url.format(pk=cluster.pk), data, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 403
    denied = AuditEvent.objects.get(action=action, outcome="denied")
    assert denied.actor == user and denied.actor_name == user.username
    assert denied.client_ip == "10.1.2.3"
    cluster.refresh_from_db()  # still there, unchanged
    assert cluster.status == "unknown"


@pytest.mark.django_db
def test_an_admin_action_is_audited_as_ok(login, admin_user, cluster, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = login(admin_user).post(f"/clusters/{cluster.pk}/check/")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="cluster.check")
    assert (event.actor, event.outcome, event.target, event.cluster) == (admin_user, "ok", "lab", "lab")
    assert len(callbacks) == 1  # the Celery task is queued only once the transaction commits


@pytest.mark.django_db
def test_actions_need_post_and_csrf(admin_user, cluster):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.get(f"/clusters/{cluster.pk}/check/").status_code == 405
    assert client.post(f"/clusters/{cluster.pk}/check/").status_code == 403
    assert not AuditEvent.objects.filter(action="cluster.check").exists()
    page = client.get("/clusters/")
    token = page.cookies["csrftoken"].value
    # htmx sends the token in a header (base.html sets hx-headers on <body>).
    response = client.post(f"/clusters/{cluster.pk}/check/", HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'data-status="checking"' in response.content


@pytest.mark.django_db
def test_the_admin_role_works_in_the_django_admin(login, admin_user, operator):
    client = login(admin_user)
    for url in ("/admin/clusters/cluster/", "/admin/auth/user/", "/admin/portal/auditevent/"):
        assert client.get(url).status_code == 200, url
    operator.is_staff = True
    operator.save()
    assert login(operator).get("/admin/clusters/cluster/").status_code == 403
