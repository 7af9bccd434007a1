"""Click through the resource pages in chromium: nodes, pods (follow a log live), deployments
(scale), services."""

import pytest

from clusters.models import Operation
from tests.conftest import browser_login
from tests.support.fake_k8s import FakeKubeAPI
from tests.support.k8s_seed import make_deployment, make_pod, make_service, seed_kind_cluster


@pytest.fixture
def lab_api():
    with FakeKubeAPI() as api:
        seed_kind_cluster(api, name="lab", workers=3)
        api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}})
        api.put(make_deployment("web", "ml", replicas=2))
        api.put(make_service("web", "ml", selector={"app": "web"}))
        api.put(make_pod("train-0", "ml", node="lab-worker"))
        api.set_pod_log("ml", "train-0", ["epoch 1 loss 0.9"])
        yield api


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_click_through_nodes_pods_and_follow_a_log(page, make_user, make_cluster, lab_api):
    make_user("vera", "viewer")
    make_cluster(lab_api)
    browser_login(page, "vera")
    page.get_by_role("link", name="Nodes", exact=True).click()
    page.get_by_test_id("nodes-table").wait_for()
    assert page.get_by_role("link", name="lab-worker3").is_visible()
    page.get_by_role("link", name="lab-worker", exact=True).click()
    page.get_by_test_id("node-pods").get_by_role("link", name="train-0").click()
    page.locator("h1", has_text="train-0").wait_for()
    page.get_by_test_id("pod-log").filter(has_text="epoch 1 loss 0.9").wait_for()
    page.click("#follow-button")
    page.get_by_test_id("pod-log").filter(has_text="epoch 1").wait_for()
    lab_api.append_pod_log("ml", "train-0", "epoch 2 loss 0.5\n")
    page.get_by_test_id("pod-log").filter(has_text="epoch 2 loss 0.5").wait_for()
    lab_api.end_pod_log("ml", "train-0")
    page.locator("#follow-status", has_text="the log has ended").wait_for()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_scale_a_deployment_and_see_services(page, make_user, make_cluster, lab_api, celery_worker):
    make_user("oscar", "operator")
    make_cluster(lab_api)
    browser_login(page, "oscar")
    page.get_by_role("link", name="Deployments").click()
    row = page.locator('tr[data-deployment="ml/web"]')
    row.locator("input[name=replicas]").fill("4")
    row.get_by_role("button", name="Scale").click()
    page.locator("#operations .operation[data-state=succeeded]").wait_for()
    assert lab_api.get("apps/v1", "Deployment", "web", "ml")["spec"]["replicas"] == 4
    assert Operation.objects.get().actor_name == "oscar"
    page.get_by_role("link", name="Services").click()
    page.get_by_test_id("services-table").wait_for()
    assert page.get_by_test_id("services-total").inner_text() == str(len(lab_api.list("v1", "Service")))
