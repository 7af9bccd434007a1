"""Server time of the pods page's first screen on a 5,000-pod cluster, next to `kubectl get pods -A`
against the same (fake, TLS) API server.

    .venv/bin/python benchmarks/pods_page.py [--pods 5000] [--runs 20]

Prints the pods page's p50/p95 server time (Django's test client, in process: the full view with
its API call and template), the dashboard summary's time (which counts every pod), and kubectl's.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def timed(call, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1 if len(samples) > 1 else 0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="pods-bench-")
    os.environ.update(PORTAL_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="portal.settings",
                      DATABASE_URL=f"sqlite:///{var_dir}/bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client then sees each response's context

    from clusters import kube
    from clusters.models import Cluster
    from tests.conftest import ensure_roles, kubeconfig_text
    from tests.support.fake_k8s import FakeKubeAPI
    from tests.support.k8s_seed import seed_kind_cluster, seed_workload_pods

    call_command("migrate", verbosity=0)
    ensure_roles()
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("bench")
    user.groups.add(Group.objects.get(name="viewer"))
    client = Client()
    client.force_login(user)

    with FakeKubeAPI(tls=True) as api:
        seed_kind_cluster(api)
        started = time.perf_counter()
        seed_workload_pods(api, args.pods - len(api.list("v1", "Pod")), namespace="bench")
        total = len(api.list("v1", "Pod"))
        print(f"seeded {total} pods in {time.perf_counter() - started:.2f} s")
        cluster = Cluster.objects.create(name="lab", context="kind-lab", kubeconfig=kubeconfig_text(api),
                                         server=api.url)

        def first_screen():
            response = client.get("/clusters/pods/")
            assert response.status_code == 200 and len(response.context["pods"]) == 50, response.context.get("error")

        def filtered_screen():
            response = client.get("/clusters/pods/?namespace=bench&phase=Running&size=100")
            assert response.status_code == 200

        first_screen()  # warm the client cache and the template loader
        p50, p95 = timed(first_screen, args.runs)
        print(f"pods page, first screen of all namespaces: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        p50, p95 = timed(filtered_screen, args.runs)
        print(f"pods page, namespace + phase filter, 100 a page: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        p50, p95 = timed(lambda: kube.cluster_summary(cluster), max(3, args.runs // 4))
        print(f"dashboard summary (counts all {total} pods): p50 {p50:.1f} ms, p95 {p95:.1f} ms")

        kubectl = shutil.which("kubectl")
        if kubectl:
            config = api.write_kubeconfig(Path(var_dir) / "kubeconfig")
            command = [kubectl, "--kubeconfig", str(config), "get", "pods", "-A"]
            subprocess.run(command, check=True, capture_output=True)
            p50, p95 = timed(lambda: subprocess.run(command, check=True, capture_output=True), max(3, args.runs // 4))
            print(f"kubectl get pods -A ({total} pods): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        else:
            print("kubectl not installed: no comparison")
    shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
