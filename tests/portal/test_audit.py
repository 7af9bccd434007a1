import pytest
from django.utils import timezone

from portal.audit import Actor, record
from portal.models import AuditEvent


@pytest.fixture
def events(admin_user, viewer):
    ada, vera = Actor(admin_user, "10.0.0.1"), Actor(viewer, "10.0.0.2")
    record(ada, "cluster.add", "lab", cluster="lab")
    record(vera, "cluster.delete", "lab", cluster="lab", outcome="denied", message="no")
    record(ada, "job.submit", "train-1", cluster="gpu", outcome="error", message="queue closed")
    return AuditEvent.objects.all()


@pytest.mark.django_db
def test_audit_events_are_append_only(events):
    event = events.first()
    event.message = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(message="rewritten")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(message="rewritten").count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("query,expected", [
    ("", {"cluster.add", "cluster.delete", "job.submit"}),
    ("actor_name=vera", {"cluster.delete"}),
    ("action=job", {"job.submit"}),
    ("target=train", {"job.submit"}),
    ("outcome=denied", {"cluster.delete"}),
    ("cluster=gpu", {"job.submit"}),
])
def test_audit_page_filters(login, admin_user, events, query, expected):
    response = login(admin_user).get(f"/audit/?{query}")
    shown = {e.action for e in response.context["page"].object_list}
    assert shown == expected


@pytest.mark.django_db
def test_audit_page_time_range_and_bad_range(login, admin_user, events):
    client = login(admin_user)
    today = timezone.now().date()
    assert client.get(f"/audit/?since={today}&until={today}").context["page"].paginator.count == 3
    tomorrow = today + timezone.timedelta(days=1)
    assert client.get(f"/audit/?since={tomorrow}").context["page"].paginator.count == 0
    bad = client.get(f"/audit/?since={tomorrow}&until={today}")
    assert "The start date is after the end date." in bad.content.decode()


@pytest.mark.django_db
def test_audit_page_pages_by_fifty(login, admin_user):
    actor = Actor(admin_user)
    for i in range(120):
        record(actor, "test.action", f"t{i}")
    client = login(admin_user)
    first = client.get("/audit/")
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].object_list[0].target == "t119"  # newest first
    last = client.get("/audit/?page=3")
    assert [e.target for e in last.context["page"].object_list][-1] == "t0"
    # An htmx request gets the table alone, with the filters kept in the paging links.
    partial = client.get("/audit/?action=test&page=2", HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and "action=test&amp;page=3" in body


@pytest.mark.django_db
def test_admin_shows_audit_read_only(client, make_user, events):
    superuser = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    event = events.first()
    assert client.get("/admin/portal/auditevent/").status_code == 200
    assert client.get("/admin/portal/auditevent/add/").status_code == 403
    change = client.get(f"/admin/portal/auditevent/{event.pk}/change/")
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert client.post(f"/admin/portal/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.count() == 3
