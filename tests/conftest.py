"""Shared fixtures: users in each role, a fake Kubernetes API server seeded like a kind cluster,
a real Celery worker, the portal served by a real uvicorn process, and a Playwright browser."""

import importlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.support.fake_k8s import FakeKubeAPI
from tests.support.k8s_seed import seed_kind_cluster
from tests.support.web_server import env_sharing_test_settings, start_web_server, stop_web_server

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"
CHROMIUM = "/usr/bin/chromium"


# ---------------------------------------------------------------- users and roles


def ensure_roles():
    """The groups of migration 0002. Needed again after a transactional test flushed the tables."""
    from django.apps import apps

    from portal.roles import grant_admin_site_permissions

    importlib.import_module("portal.migrations.0002_roles").create_roles(apps, None)
    grant_admin_site_permissions()


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import Group, User

    def make(username, role=None, **extra):
        ensure_roles()
        user = User.objects.create_user(username, password=PASSWORD, **extra)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def viewer(make_user):
    return make_user("vera", "viewer")


@pytest.fixture
def operator(make_user):
    return make_user("oscar", "operator")


@pytest.fixture
def admin_user(make_user):
    return make_user("ada", "admin", is_staff=True)


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


# ---------------------------------------------------------------- Kubernetes


@pytest.fixture(scope="session")
def kube_api():
    """A fake API server seeded like `kind create cluster --name lab` with 3 workers and Volcano."""
    with FakeKubeAPI() as api:
        seed_kind_cluster(api, name="lab", workers=3, volcano=True)
        yield api


@pytest.fixture
def fresh_kube_api():
    """An empty fake API server of this test's own, for tests that change cluster state."""
    with FakeKubeAPI() as api:
        yield api


def kubeconfig_text(api, context="kind-lab"):
    return yaml.safe_dump(api.kubeconfig(context=context, cluster=context, user=context))


@pytest.fixture
def make_cluster(db):
    from clusters.models import Cluster

    def make(api, name="lab", context="kind-lab"):
        return Cluster.objects.create(
            name=name, context=context, kubeconfig=kubeconfig_text(api, context), server=api.url
        )

    return make


@pytest.fixture
def cluster(make_cluster, kube_api):
    return make_cluster(kube_api)


# ---------------------------------------------------------------- Celery and the live portal


@pytest.fixture(scope="session", autouse=True)
def celery_test_queue():
    """A Celery queue and a channel-layer prefix of this session's own, so neither a stale task
    from an earlier run nor a test run beside this one can reach our worker or our sockets."""
    from portal.celery import app

    run = uuid.uuid4().hex[:8]
    settings.CELERY_TASK_DEFAULT_QUEUE = f"portal-test-{run}"
    app.loader.import_default_modules()  # load the configuration now, so ours is not overwritten later
    app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi-test-{run}"
    yield app.conf.task_default_queue


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (in a thread of this process) consuming from Redis."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING") as worker:
        yield worker


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_subprocess():
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def live_portal(django_db_setup, django_db_blocker, celery_test_queue):
    """The portal served by a real web server process, on the test database, sharing our secrets."""
    process, url = start_web_server(env_sharing_test_settings(settings), settings.VAR_DIR / "live-portal.log")
    yield url
    stop_web_server(process)


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is required in CI (scripts/test.sh installs it).")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls tests make
    # beside it are still plain synchronous calls, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(chromium, live_portal):
    context = chromium.new_context(base_url=live_portal)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def browser_login(page, username, password=PASSWORD):
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
