import pytest

from tests.support.fake_k8s import FakeKubeAPI
from tests.support.k8s_seed import (make_deployment, make_event, make_pod, make_service, seed_kind_cluster)


@pytest.fixture
def lab_api():
    """A kind-like cluster of this test's own, with a small workload in namespace "ml"."""
    with FakeKubeAPI() as api:
        seed_kind_cluster(api, name="lab", workers=3, volcano=True, gpus_on=["lab-worker"])
        api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}})
        api.put(make_deployment("web", "ml", replicas=2))
        service = make_service("web", "ml", ports=((80, 8080),), selector={"app": "web"}, service_type="NodePort")
        service["spec"]["ports"][0]["nodePort"] = 30081
        api.put(service)
        api.put(make_pod("train-0", "ml", node="lab-worker", containers=["trainer", "sidecar"]))
        crashy = api.put(make_pod("crashy", "ml", node="lab-worker2", reason="CrashLoopBackOff", restarts=7))
        api.put(make_event("crashy.1", "ml", crashy, "BackOff", "Back-off restarting failed container",
                           event_type="Warning"))
        yield api


@pytest.fixture
def lab(make_cluster, lab_api):
    return make_cluster(lab_api)
