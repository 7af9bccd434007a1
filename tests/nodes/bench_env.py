"""A whole portal for the benchmarks: a temporary var dir with a migrated SQLite database, the fake
API server with agent pods, real agents, and the portal served by uvicorn — no pytest needed.

    with PortalEnv(agents=2) as env:
        env.http  # a requests.Session logged in as an operator, with the CSRF header set
"""

import os
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class PortalEnv:
    def __init__(self, agents=2, workers=None, dead_agents=0):
        self.agent_count, self.workers, self.dead = agents, workers or max(agents + dead_agents, 1), dead_agents
        self.var = tempfile.mkdtemp(prefix="portal-bench-")
        os.environ["PORTAL_VAR_DIR"] = self.var
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        os.environ["PORTAL_CHANNEL_PREFIX"] = f"bench-{os.getpid()}"
        sys.path.insert(0, REPO)

    def __enter__(self):
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from tests.support.agent_process import start_agent
        from tests.support.fake_k8s import FakeKubeAPI
        from tests.support.k8s_seed import make_namespace, seed_kind_cluster
        from tests.nodes.conftest import AGENT_NAMESPACE, RUN_PATH, TOKEN, add_agent_pod

        self.api = FakeKubeAPI().start()
        names = seed_kind_cluster(self.api, name="lab", workers=self.workers, volcano=False)["workers"]
        self.api.put(make_namespace(AGENT_NAMESPACE))
        self.agents = []
        for i in range(self.agent_count):
            agent = start_agent(token=TOKEN, env={"PATH": RUN_PATH}, extra_args=["--max-active-runs", "4"])
            self.agents.append(agent)
            add_agent_pod(self.api, names[i], agent.url, name=f"agent-{i}")
        for i in range(self.dead):
            add_agent_pod(self.api, names[self.agent_count + i], "http://127.0.0.1:9", name=f"dead-{i}")
        self._models(TOKEN, AGENT_NAMESPACE)
        self._web()
        return self

    def _models(self, token, namespace):
        import yaml
        from django.contrib.auth.models import Group, User
        from django.test import Client

        from clusters.models import Cluster
        from nodes import services
        from nodes.models import AgentConfig, Node

        kubeconfig = yaml.safe_dump(self.api.kubeconfig(context="kind-lab", cluster="kind-lab", user="kind-lab"))
        self.cluster = Cluster.objects.create(name="lab", context="kind-lab", kubeconfig=kubeconfig, server=self.api.url)
        AgentConfig.objects.create(cluster=self.cluster, namespace=namespace, token=token)
        services.discover_nodes(self.cluster)
        self.nodes = {n.pod_name: n for n in Node.objects.filter(cluster=self.cluster) if n.pod_name}
        user = User.objects.create_user("bench")
        user.groups.add(Group.objects.get(name="operator"))
        client = Client()
        client.force_login(user)
        self.session = client.cookies["sessionid"].value

    def _web(self):
        import requests

        from tests.support.web_server import start_web_server

        self.web, self.url = start_web_server(dict(os.environ), os.path.join(self.var, "web.log"))
        self.http = requests.Session()
        self.http.cookies.set("sessionid", self.session)
        self.http.get(f"{self.url}/nodes/runs/")
        self.http.headers["X-CSRFToken"] = self.http.cookies.get("csrftoken", "")

    def __exit__(self, *exc):
        if getattr(self, "web", None):
            from tests.support.web_server import stop_web_server

            stop_web_server(self.web)
        for agent in getattr(self, "agents", []):
            agent.stop()
        self.api.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.var, ignore_errors=True)
