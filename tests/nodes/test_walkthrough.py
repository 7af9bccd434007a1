"""The lab report's MNIST walk-through, through the portal's views and a real Celery worker:
upload the training files to worker 1, run `python train.py`, hand model.pth to worker 2, upload the
prediction files, run `python predict.py`, read the prediction; then check history, audit and logs."""

import io
import os
import zipfile

import pytest
from django.core.files.storage import default_storage

from clusters.models import Operation
from nodes.models import Run
from portal.models import AuditEvent
from tests.support.agent_process import REPO_ROOT

from .conftest import wait_for

pytest.importorskip("sklearn", reason="examples/mnist/train.py needs scikit-learn")
EXAMPLE = os.path.join(REPO_ROOT, "examples", "mnist")


def example_zip(*names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            path = os.path.join(EXAMPLE, name)
            if os.path.isdir(path):
                for child in sorted(os.listdir(path)):
                    archive.write(os.path.join(path, child), f"{name}/{child}")
            else:
                archive.write(path, name)
    return buffer.getvalue()


def finished_run(pk, timeout=60):
    return wait_for(lambda: (run := Run.objects.get(pk=pk)).finished and run, timeout=timeout,
                    message=f"run {pk} to finish")


@pytest.mark.django_db(transaction=True)
def test_mnist_walkthrough_through_the_portal(lab, celery_worker, login, operator, settings):
    settings.RUN_SYNC_SECONDS = 0.2
    client = login(operator)
    worker1, worker2 = lab.worker1, lab.worker2

    # Upload the training script to worker 1 (the archive replaces the workspace).
    response = client.generic("PUT", f"/nodes/{worker1.pk}/files/upload/?archive=1", example_zip("train.py"),
                              content_type="application/zip")
    assert response.status_code == 200, response.content

    # Run it; the page of the run opens at once.
    response = client.post(f"/nodes/{worker1.pk}/run/", {"command": "python train.py", "cwd": "", "env": "SEED=1"})
    train = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/nodes/runs/{train.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert f'data-ws="/ws/runs/{train.pk}/log/"' in page and 'ws-connect="/ws/live/run/%s/"' % train.pk in page
    train = finished_run(train.pk)
    assert train.state == "succeeded" and train.exit_code == 0, train.message
    assert train.started_at and train.ended_at and train.agent_run_id and train.env == {"SEED": "1"}

    # The complete log is in the portal's storage, and served from there.
    log_text = default_storage.open(train.log_file).read().decode()
    assert "Training complete" in log_text and train.log_size == len(log_text.encode())
    served = b"".join(client.get(f"/nodes/runs/{train.pk}/log/").streaming_content).decode()
    assert served == log_text

    # Fetch model.pth through the portal, then hand it to worker 2 in one action.
    model = b"".join(client.get(f"/nodes/{worker1.pk}/files/download/?path=model.pth").streaming_content)
    assert model == open(os.path.join(lab.agents["lab-worker"].workspace, "model.pth"), "rb").read()
    client.post(f"/nodes/{worker1.pk}/files/copy/", {"path": "model.pth", "destination": worker2.pk,
                                                     "destination_path": "model.pth"})
    copy = wait_for(lambda: (op := Operation.objects.get(action="node.copy")).done and op, message="the copy")
    assert copy.state == "succeeded", copy.message
    assert open(os.path.join(lab.agents["lab-worker2"].workspace, "model.pth"), "rb").read() == model

    # Upload the prediction files to worker 2, keeping the model that just arrived.
    response = client.generic("PUT", f"/nodes/{worker2.pk}/files/upload/?archive=1&keep=model.pth",
                              example_zip("predict.py", "test_images"), content_type="application/zip")
    assert response.status_code == 200, response.content
    response = client.post(f"/nodes/{worker2.pk}/run/", {"command": "python predict.py"})
    predict = finished_run(Run.objects.exclude(pk=train.pk).get().pk)
    assert predict.state == "succeeded", predict.message
    prediction = default_storage.open(predict.log_file).read().decode()
    for digit in (3, 7, 9):
        assert f"test_images/digit_{digit}.txt: prediction: {digit}" in prediction

    # History: the runs page, filtered; the audit trail of every step.
    runs_page = client.get("/nodes/runs/?node=lab-worker2&state=succeeded").content.decode()
    assert f'data-run="{predict.pk}"' in runs_page and f'data-run="{train.pk}"' not in runs_page
    # The table refreshes itself with the same filters.
    assert 'hx-get="/nodes/runs/?node=lab-worker2&amp;state=succeeded" hx-trigger="every 5s"' in runs_page
    actions = list(AuditEvent.objects.filter(actor=operator).order_by("pk").values_list("action", "outcome"))
    for expected in [("node.upload_archive", "ok"), ("node.run", "ok"), ("node.run.result", "ok"),
                     ("node.download", "ok"), ("node.copy", "ok"), ("node.copy.result", "ok")]:
        assert expected in actions, (expected, actions)
    assert [a for a in actions if a[0] == "node.run.result"] == [("node.run.result", "ok")] * 2
    result = AuditEvent.objects.filter(action="node.run.result").first()
    assert result.detail["exit_code"] == 0 and result.detail["log_file"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_command_records_its_exit_code_and_rerun_repeats_it(lab, celery_worker, login, operator, settings):
    settings.RUN_SYNC_SECONDS = 0.2
    client = login(operator)
    client.post(f"/nodes/{lab.worker1.pk}/run/", {"command": "echo oops >&2; exit 3"})
    first = finished_run(Run.objects.get().pk)
    assert first.state == "failed" and first.exit_code == 3
    assert default_storage.open(first.log_file).read() == b"oops\n"
    response = client.post(f"/nodes/runs/{first.pk}/rerun/")
    second = Run.objects.exclude(pk=first.pk).get()
    assert response["Location"] == f"/nodes/runs/{second.pk}/" and second.command == first.command
    assert finished_run(second.pk).exit_code == 3
    page = client.get(f"/nodes/{lab.worker1.pk}/").content.decode()
    assert '<option value="echo oops &gt;&amp;2; exit 3">' in page  # offered again


@pytest.mark.django_db(transaction=True)
def test_a_node_without_agent_gives_a_run_that_could_not_start(lab, celery_worker, login, operator):
    from nodes.models import Node

    control = Node.objects.get(name="lab-control-plane")
    login(operator).post(f"/nodes/{control.pk}/run/", {"command": "true"})
    run = finished_run(Run.objects.get().pk)
    assert run.state == "error" and "No agent runs on lab-control-plane" in run.message


def test_bad_run_requests_change_nothing(lab, login, operator):
    client = login(operator)
    for data in ({"command": "  "}, {"command": "true", "env": "not an assignment"}, {"command": "true", "cwd": "../x"}):
        client.post(f"/nodes/{lab.worker1.pk}/run/", data)
    assert not Run.objects.exists()
