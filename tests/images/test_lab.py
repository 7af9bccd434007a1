"""The portal's lab actions run the deploy scripts (against the stand-ins) as Celery tasks."""

import pytest
import yaml

from clusters.models import Cluster, Operation
from portal.models import AuditEvent
from tests.conftest import kubeconfig_text
from tests.images.conftest import wait_for


def test_lab_page_offers_the_actions(login, admin_user, standins, cluster):
    html = login(admin_user).get("/clusters/lab/").content.decode()
    assert 'action="/clusters/lab/create/"' in html
    assert f'action="/clusters/{cluster.pk}/lab/deploy-agents/"' in html
    assert "docker-problem" not in html


def test_without_a_docker_engine_the_page_says_so(login, admin_user, standins):
    standins.update_state(engine="down")
    response = login(admin_user).get("/clusters/lab/")
    html = response.content.decode()
    assert "docker is installed but no Docker engine answers (is the daemon running?)." in html
    assert 'action="/clusters/lab/create/"' not in html
    response = login(admin_user).post("/clusters/lab/create/", {"name": "dl", "config": "small"}, follow=True)
    assert "no Docker engine answers" in response.content.decode()
    assert not Operation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_create_a_lab_cluster_runs_up_sh_and_adds_the_cluster(login, admin_user, standins, kube_api, celery_worker):
    standins.update_state(kubeconfig=kubeconfig_text(kube_api, "kind-dl"))
    login(admin_user).post("/clusters/lab/create/", {"name": "dl", "config": "lab"})
    operation = wait_for(Operation.objects.get(action="lab.create"), seconds=120)
    assert operation.state == "succeeded", (operation.message, operation.results[-10:])
    assert operation.progress == 100
    lines = [r["message"] for r in operation.results]
    assert "[1/3] kind cluster dl (lab)" in lines and "[3/3] node agents (volcano-portal-agent:0.1.0)" in lines
    create = next(c for c in standins.calls("kind") if c[:2] == ["create", "cluster"])
    assert create[create.index("--config") + 1].endswith("deploy/kind/lab.yaml")
    assert any(c[0] == "upgrade" for c in standins.calls("helm"))
    cluster = Cluster.objects.get(kind_cluster="dl")
    assert (cluster.name, cluster.context) == ("dl", "kind-dl") and operation.cluster == cluster
    assert "the portal's cluster dl" in operation.message
    actions = list(AuditEvent.objects.filter(action__in=["lab.create", "cluster.add", "lab.create.result"])
                   .order_by("id").values_list("action", "outcome"))
    assert actions == [("lab.create", "ok"), ("cluster.add", "ok"), ("lab.create.result", "ok")]


@pytest.mark.django_db(transaction=True)
def test_install_volcano_on_an_imported_cluster(login, admin_user, standins, make_cluster, fresh_kube_api,
                                                celery_worker):
    cluster = make_cluster(fresh_kube_api, name="prod", context="prod")
    login(admin_user).post(f"/clusters/{cluster.pk}/lab/install-volcano/")
    operation = wait_for(Operation.objects.get(action="lab.install_volcano"), seconds=60)
    assert operation.state == "succeeded", (operation.message, operation.results[-10:])
    upgrade = next(c for c in standins.calls("helm") if c[0] == "upgrade")
    assert upgrade[upgrade.index("--kube-context") + 1] == "prod"
    assert any("Volcano works" in r["message"] for r in operation.results)
    assert AuditEvent.objects.get(action="lab.install_volcano.result").outcome == "ok"

    # Again: nothing changes, and the log says so.
    login(admin_user).post(f"/clusters/{cluster.pk}/lab/install-volcano/")
    again = wait_for(Operation.objects.filter(action="lab.install_volcano").order_by("-id").first(), seconds=60)
    assert again.state == "succeeded"
    assert any(r["message"].startswith("= Volcano 1.13.0 is installed") for r in again.results)
    assert sum(c[0] == "upgrade" for c in standins.calls("helm")) == 1


@pytest.mark.django_db(transaction=True)
def test_deploy_agents_on_a_cluster_without_kind(login, admin_user, standins, make_cluster, fresh_kube_api,
                                                 celery_worker):
    cluster = make_cluster(fresh_kube_api, name="prod", context="prod")
    login(admin_user).post(f"/clusters/{cluster.pk}/lab/deploy-agents/")
    operation = wait_for(Operation.objects.get(action="lab.deploy_agents"), seconds=60)
    assert operation.state == "succeeded", (operation.message, operation.results[-10:])
    assert standins.calls("docker") == [] and not [c for c in standins.calls("kind") if c[0] == "load"]
    assert ["--context", "prod", "apply", "-f", "-"] in standins.calls("kubectl")
    # The Secret holds the token the portal now keeps (encrypted) for this cluster's agents.
    from nodes.models import AgentConfig

    token = AgentConfig.objects.get(cluster=cluster).token
    assert len(token) == 64
    created = [c for c in standins.calls() if c["tool"] == "kubectl" and "secret" in c["argv"] and "create" in c["argv"]]
    assert [c["stdin"] for c in created] == [token]
    assert all(token not in " ".join(c["argv"]) for c in standins.calls())  # never in a command line


@pytest.mark.django_db(transaction=True)
def test_a_failing_script_fails_the_operation_with_its_error(login, admin_user, standins, make_cluster,
                                                             fresh_kube_api, celery_worker, tmp_path, monkeypatch):
    from tests.support.bin import StandIns

    monkeypatch.setenv("PATH", StandIns(tmp_path / "no-helm", missing={"helm"}).path)
    cluster = make_cluster(fresh_kube_api, name="prod", context="prod")
    login(admin_user).post(f"/clusters/{cluster.pk}/lab/install-volcano/")
    operation = wait_for(Operation.objects.get(), seconds=60)
    assert operation.state == "failed"
    assert operation.message.startswith("A tool the lab needs is missing on the portal's server: helm is not installed")


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_run_lab_actions(request, login, standins, cluster, role):
    client = login(request.getfixturevalue(role))
    assert client.post("/clusters/lab/create/", {"name": "dl", "config": "small"}).status_code == 403
    assert client.post(f"/clusters/{cluster.pk}/lab/install-volcano/").status_code == 403
    assert client.post(f"/clusters/{cluster.pk}/lab/deploy-agents/").status_code == 403
    assert not Operation.objects.exists()
    assert list(AuditEvent.objects.order_by("id").values_list("action", "outcome")) == [
        ("lab.create", "denied"), ("lab.install_volcano", "denied"), ("lab.deploy_agents", "denied")]
    assert standins.calls() == []


@pytest.mark.parametrize("name,config", [("Bad_Name", "small"), ("-x", "small"), ("dl", "huge"), ("", "small")])
def test_bad_lab_requests_change_nothing(login, admin_user, standins, name, config):
    response = login(admin_user).post("/clusters/lab/create/", {"name": name, "config": config}, follow=True)
    assert "A kind cluster name is lowercase letters" in response.content.decode()
    assert not Operation.objects.exists()
    assert not [c for c in standins.calls("kind") if c[0] == "create"]


def test_unknown_lab_action_is_404(login, admin_user, cluster):
    assert login(admin_user).post(f"/clusters/{cluster.pk}/lab/format-disks/").status_code == 404


def test_kubeconfig_file_is_private_and_removed(cluster):
    import os
    import stat

    from clusters import lab

    with lab.kubeconfig_file(cluster) as path:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert yaml.safe_load(open(path))["current-context"]
    assert not os.path.exists(path)
