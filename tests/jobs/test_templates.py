"""Job templates: the two seeded ones, starting from one, and saving the form as one."""

import pytest

from jobs.models import JobTemplate
from portal.models import AuditEvent


@pytest.mark.django_db
def test_the_seed_templates_fill_the_form(login, operator, lab, seed_templates):
    busybox = JobTemplate.objects.get(name="busybox sleep")
    assert JobTemplate.objects.filter(name="PyTorch training").exists()
    page = login(operator).get(f"/jobs/new/?template={busybox.pk}").content.decode()
    assert 'value="test-job"' in page and 'value="sleep 60"' in page and 'value="busybox"' in page
    assert "restartPolicy: Never" in page and "minAvailable: 1" in page  # the YAML it would submit
    assert "PyTorch training" in page


@pytest.mark.django_db
def test_the_pytorch_template_builds_a_valid_gang_job(login, operator, lab, seed_templates):
    template = JobTemplate.objects.get(name="PyTorch training")
    page = login(operator).get(f"/jobs/new/?template={template.pk}").content.decode()
    assert "minAvailable: 2" in page and "nvidia.com/gpu" in page and "/workspace" in page
    assert "Volcano would refuse" not in page


@pytest.mark.django_db
def test_save_the_form_as_a_template(login, operator, lab):
    values = {"cluster": lab.pk, "name": "nightly", "namespace": "default", "queue": "default",
              "task_name": "worker", "image": "python:3.12", "command": "python nightly.py", "replicas": "1",
              "restart_policy": "Never", "max_retry": "1", "template_name": "nightly run", "description": "cron"}
    response = login(operator).post("/jobs/templates/save/", values, follow=True)
    template = JobTemplate.objects.get(name="nightly run")
    assert template.values["command"] == "python nightly.py" and "cluster" not in template.values
    assert "Template nightly run saved." in response.content.decode()
    assert 'value="python nightly.py"' in response.content.decode()
    assert AuditEvent.objects.get(action="job.template.save").actor == operator


@pytest.mark.django_db
def test_viewers_cannot_save_templates(login, viewer, lab):
    response = login(viewer).post("/jobs/templates/save/", {
        "cluster": lab.pk, "name": "x", "namespace": "default", "queue": "default", "task_name": "w",
        "image": "busybox", "replicas": "1", "restart_policy": "Never", "max_retry": "1", "template_name": "t"})
    assert response.status_code == 403 and not JobTemplate.objects.filter(name="t").exists()
