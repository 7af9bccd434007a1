"""Latency and completeness of the node agent's live log stream (GET /v1/runs/<id>/log/stream).

    .venv/bin/python benchmarks/agent_log_latency.py                   # both phases
    .venv/bin/python benchmarks/agent_log_latency.py --lines 5000 --rate 1000 --flood-lines 0

Phase 1 (latency): a run prints `<sequence> <time_ns>` lines at --rate lines/s; a reader follows the
stream and measures, for each line, the time from its print to its arrival (same clock, same machine).
Phase 2 (completeness): a run prints --flood-lines lines as fast as it can; --readers readers follow it
at once and each checks that every line arrived exactly once, in order.
"""

import argparse
import os
import statistics
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.support.agent_process import start_agent  # noqa: E402

PACED_WRITER = """
import sys, time
lines, rate = int(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
for i in range(lines):
    delay = start + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    sys.stdout.write(f"{i} {time.time_ns()}\\n")
"""

FLOOD_WRITER = """
import sys
w = sys.stdout.write
for i in range(int(sys.argv[1])):
    w(f"{i} flood line with some padding to look like a training log\\n")
"""


def start_run(agent, argv) -> str:
    response = requests.post(f"{agent.url}/v1/runs", json={"argv": argv}, headers=agent.headers, timeout=10)
    response.raise_for_status()
    return response.json()["id"]


def follow(agent, run_id, on_line) -> None:
    with requests.get(f"{agent.url}/v1/runs/{run_id}/log/stream", headers=agent.headers, stream=True,
                      timeout=600) as response:
        response.raise_for_status()
        pending = b""
        for chunk in response.iter_content(chunk_size=None):
            arrived = time.time_ns()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                on_line(line, arrived)


def check_sequence(seen: list[int], expected: int) -> tuple[int, int]:
    """(lost, duplicated) for sequence numbers that should be 0..expected-1 exactly once."""
    unique = set(seen)
    return expected - len(unique & set(range(expected))), len(seen) - len(unique)


def latency_phase(agent, lines: int, rate: float) -> None:
    latencies_ms, seen = [], []

    def on_line(line, arrived):
        number, sent = line.split()
        seen.append(int(number))
        latencies_ms.append((arrived - int(sent)) / 1e6)

    run_id = start_run(agent, [sys.executable, "-c", PACED_WRITER, str(lines), str(rate)])
    follow(agent, run_id, on_line)
    latencies_ms.sort()
    lost, duplicated = check_sequence(seen, lines)
    p = lambda q: latencies_ms[min(len(latencies_ms) - 1, int(q * len(latencies_ms)))]  # noqa: E731
    print(f"latency at {rate:.0f} lines/s over {lines} lines: p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"max {latencies_ms[-1]:.1f} ms, mean {statistics.mean(latencies_ms):.1f} ms; "
          f"lost {lost}, duplicated {duplicated}")


def flood_phase(agent, lines: int, readers: int) -> None:
    results = [[] for _ in range(readers)]
    run_id = start_run(agent, [sys.executable, "-c", FLOOD_WRITER, str(lines)])
    began = time.monotonic()
    threads = [threading.Thread(target=follow, args=(agent, run_id, lambda l, _, r=r: r.append(int(l.split()[0]))))
               for r in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    for index, seen in enumerate(results):
        lost, duplicated = check_sequence(seen, lines)
        in_order = seen == sorted(seen)
        print(f"flood of {lines} lines, reader {index + 1}/{readers}: received {len(seen)}, lost {lost}, "
              f"duplicated {duplicated}, in order {in_order}")
    print(f"flood: all {readers} readers done in {elapsed:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="lines of the paced run (default 10000)")
    parser.add_argument("--rate", type=float, default=1000, help="lines per second of the paced run")
    parser.add_argument("--flood-lines", type=int, default=100_000, help="lines of the flood run (0: skip)")
    parser.add_argument("--readers", type=int, default=3, help="concurrent readers of the flood run")
    args = parser.parse_args()
    agent = start_agent()
    try:
        if args.lines:
            latency_phase(agent, args.lines, args.rate)
        if args.flood_lines:
            flood_phase(agent, args.flood_lines, args.readers)
    finally:
        agent.stop()


if __name__ == "__main__":
    main()
