import pytest
from django.test import Client

from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_login_redirects_to_the_page_asked_for(make_user):
    make_user("vera", "viewer")
    client = Client()
    response = client.get("/audit/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/audit/"
    response = client.post("/login/?next=/audit/", {"username": "vera", "password": PASSWORD, "next": "/audit/"})
    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200


@pytest.mark.django_db
def test_wrong_password_says_so(make_user):
    make_user("vera", "viewer")
    response = Client().post("/login/", {"username": "vera", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


@pytest.mark.django_db
def test_password_guessing_is_throttled(make_user, settings):
    make_user("vera", "viewer")
    client = Client(REMOTE_ADDR="192.0.2.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "vera", "password": "guess"})
    # Locked now: even the right password is refused, with a page that says why.
    response = client.post("/login/", {"username": "vera", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out.
    other = Client(REMOTE_ADDR="192.0.2.8")
    assert other.post("/login/", {"username": "vera", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_logout_needs_post(login, viewer):
    client = login(viewer)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302
