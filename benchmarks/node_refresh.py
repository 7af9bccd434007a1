"""How long the node overview takes to refresh the usage of every node's agent.

    .venv/bin/python benchmarks/node_refresh.py              # 50 agents, 1 of them dead
    .venv/bin/python benchmarks/node_refresh.py --agents 10

Starts that many real agents, each behind the fake API server's pod proxy as the agent pod of one
worker, plus pods whose agent does not answer; then times GET /nodes/cards/ (health + usage of every
agent, read concurrently with PORTAL_AGENT_USAGE_TIMEOUT each) through the web server.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.nodes.bench_env import PortalEnv  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--dead", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    with PortalEnv(agents=args.agents, dead_agents=args.dead) as env:
        print(f"{args.agents} agents (+{args.dead} not answering) up in {time.perf_counter() - started:.1f} s")
        url = f"{env.url}/nodes/cards/?cluster={env.cluster.pk}"
        times = []
        for _ in range(args.rounds + 1):
            t0 = time.perf_counter()
            response = env.http.get(url, timeout=30)
            times.append(time.perf_counter() - t0)
            response.raise_for_status()
        body = response.text
        ok = body.count('data-testid="cpu"')
        times = times[1:]  # the first round also opens the connections
        unreachable = body.count('class="card node-card" id="node-card-') - ok
        print(f"cards with usage: {ok} of {args.agents}; without usage (unreachable or no agent): {unreachable}")
        print(f"refresh of all nodes: median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms over {len(times)} rounds")


if __name__ == "__main__":
    main()
