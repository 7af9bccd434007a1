import importlib

import pytest

from tests.support.k8s_seed import seed_kind_cluster

SEED_VCJOB = """\
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata:
  name: test-job
spec:
  minAvailable: 1
  schedulerName: volcano
  tasks:
    - replicas: 2
      name: "sleep"
      template:
        spec:
          containers:
            - image: busybox
              command: ["sleep", "60"]
              name: sleep-container
          restartPolicy: Never
"""
VCJOB = ("batch.volcano.sh/v1alpha1", "Job")
QUEUE = ("scheduling.volcano.sh/v1beta1", "Queue")
COMMAND = ("bus.volcano.sh/v1alpha1", "Command")


@pytest.fixture
def lab_api(fresh_kube_api):
    """A fake kind cluster with Volcano of this test's own (tests here change cluster state)."""
    seed_kind_cluster(fresh_kube_api, name="lab", workers=2, volcano=True)
    return fresh_kube_api


@pytest.fixture
def lab(make_cluster, lab_api):
    return make_cluster(lab_api)


@pytest.fixture
def eager_tasks():
    """Celery tasks queued by the code under test run at once, in this thread (the worker path has
    its own tests with a real worker)."""
    from portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def submit(login, django_capture_on_commit_callbacks, eager_tasks):
    """POST a manifest to the YAML form as `user` and run what it queues; returns the response."""
    def post(user, cluster, text, namespace="default", follow=True):
        with django_capture_on_commit_callbacks(execute=True):
            return login(user).post("/jobs/new/yaml/", {"cluster": cluster.pk, "namespace": namespace,
                                                        "manifest": text}, follow=follow)

    return post


@pytest.fixture
def seed_templates(db):
    """The templates of migration 0002 (a transactional test before this one flushed them)."""
    from django.apps import apps

    importlib.import_module("jobs.migrations.0002_seed_templates").create_templates(apps, None)
