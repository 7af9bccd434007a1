"""Latency of run log lines from the agent to a websocket client through the portal.

    .venv/bin/python benchmarks/portal_log_latency.py                 # 10,000 lines at 1,000 lines/s
    .venv/bin/python benchmarks/portal_log_latency.py --lines 100000 --rate 0

A run on a real agent prints lines carrying their wall-clock time; the client follows
/ws/runs/<id>/log/ on the web server (RunLogConsumer → agent log stream through the fake API server's pod
proxy) and measures, for each line, arrival time minus print time. It also checks that every line
arrived once, in order, and repeats the read with a reconnect halfway (resuming from the offset).
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.nodes.bench_env import PortalEnv  # noqa: E402

PRINTER = """
import sys, time
lines, rate = int(sys.argv[1]), float(sys.argv[2])
start = time.time()
for i in range(lines):
    if rate:
        delay = start + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
    sys.stdout.write(f"{i} {time.time():.6f} " + "x" * 60 + "\\n")
    sys.stdout.flush()
"""


def follow(env, run_pk, offset=0, stop_after=None, on_line=None):
    import websocket

    socket = websocket.create_connection(f"{env.url.replace('http', 'ws', 1)}/ws/runs/{run_pk}/log/?offset={offset}",
                                         cookie=f"sessionid={env.session}", origin=env.url, timeout=60)
    buffer, count = "", 0
    try:
        while True:
            message = json.loads(socket.recv())
            arrived = time.time()
            if "text" in message:
                buffer += message["text"]
                *lines, buffer = buffer.split("\n")
                for line in lines:
                    on_line(line, arrived)
                count += len(lines)
                offset = message["offset"]
                if stop_after and count >= stop_after:
                    return offset - len(buffer.encode())
            elif message.get("end"):
                # "ending": the agent's stream is complete; no Celery worker runs here to finish the row.
                return None
            elif message.get("error"):
                raise SystemExit(f"the log socket reported: {message['error']}")
    finally:
        socket.close()


def start(env, lines, rate):
    from django.utils import timezone

    from nodes import agent
    from nodes.models import Run

    node = next(iter(env.nodes.values()))
    command = f"{sys.executable} -c '{PRINTER}' {lines} {rate}"
    started = agent.start_run(node, command)
    return Run.objects.create(node=node, node_name=node.name, user_name="bench", command=command,
                              agent_run_id=started["id"], state=Run.State.RUNNING, started_at=timezone.now())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()
    with PortalEnv(agents=1) as env:
        run = start(env, args.lines, args.rate)
        latencies, seen = [], []

        def on_line(line, arrived):
            number, printed, _rest = line.split(" ", 2)
            seen.append(int(number))
            latencies.append((arrived - float(printed)) * 1000)

        follow(env, run.pk, on_line=on_line)
        latencies.sort()
        missing = args.lines - len(set(seen))
        in_order = seen == sorted(seen)
        print(f"{args.lines} lines at {args.rate:g} lines/s to a websocket client through the portal:")
        print(f"  latency p50 {statistics.median(latencies):.1f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms,"
              f" max {latencies[-1]:.1f} ms")
        print(f"  lost {missing}, duplicated {len(seen) - len(set(seen))}, in order: {in_order}")

        # A reader that disconnects halfway and resumes from its offset.
        again = []
        offset = follow(env, run.pk, stop_after=args.lines // 2, on_line=lambda line, _t: again.append(line))
        follow(env, run.pk, offset=offset, on_line=lambda line, _t: again.append(line))
        numbers = [int(line.split(" ", 1)[0]) for line in again]
        print(f"  with a reconnect halfway: {len(numbers)} lines, gaps or duplicates: "
              f"{numbers != list(range(args.lines))}")


if __name__ == "__main__":
    main()
