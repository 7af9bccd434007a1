"""Fixtures for the fake Kubernetes API's own tests (no database)."""
import kubernetes
import pytest

from tests.support.fake_k8s import FakeKubeAPI
from tests.support.k8s_seed import seed_kind_cluster, seed_workload_pods

BENCH_PODS = 5000


@pytest.fixture(scope="session")
def big_cluster(tmp_path_factory):
    """A seeded kind cluster plus 5,000 pods in namespace ``bench``; tests must not change it."""
    api = FakeKubeAPI()
    seed_kind_cluster(api)
    seed_workload_pods(api, BENCH_PODS)
    api.start()
    api.kubeconfig_path = api.write_kubeconfig(tmp_path_factory.mktemp("big") / "kubeconfig")
    yield api
    api.stop()


@pytest.fixture
def big_client(big_cluster):
    client = kubernetes.config.new_client_from_config(config_file=str(big_cluster.kubeconfig_path),
                                                      context="kind-lab")
    yield client
    client.close()


@pytest.fixture
def kind_api(tmp_path):
    """A fresh seeded kind cluster per test, for tests that change things."""
    api = FakeKubeAPI()
    seed_kind_cluster(api)
    api.start()
    api.kubeconfig_path = api.write_kubeconfig(tmp_path / "kubeconfig")
    yield api
    api.stop()


@pytest.fixture
def kind_client(kind_api):
    client = kubernetes.config.new_client_from_config(config_file=str(kind_api.kubeconfig_path),
                                                      context="kind-lab")
    yield client
    client.close()
