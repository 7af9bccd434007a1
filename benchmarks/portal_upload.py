"""Upload throughput through the portal vs straight to the agent, and the memory of each process.

    .venv/bin/python benchmarks/portal_upload.py               # 1 GiB archive
    .venv/bin/python benchmarks/portal_upload.py --size-mib 256

The same stored zip (one file of incompressible data) goes (1) straight to a real agent
(POST /v1/workspace/archive, raw body) and (2) through the portal: browser-like PUT to the web server →
Django view → the fake API server's pod proxy → the agent, streamed (nodes/views.upload →
nodes/agent.upload_archive). Then the file is downloaded back through the portal. The RSS of the
web server and of the agent is sampled every 20 ms. The portal runs under uvicorn and takes uploads in
nodes.streaming, ahead of Django, so the body is passed on as it arrives (docs/architecture.md).
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.agent_upload import MiB, PeakMemory, make_archive  # noqa: E402
from tests.nodes.bench_env import PortalEnv  # noqa: E402


def file_chunks(path):
    with open(path, "rb") as f:
        while piece := f.read(MiB):
            yield piece


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    import requests

    with tempfile.TemporaryDirectory() as tmp, PortalEnv(agents=1) as env:
        archive = os.path.join(tmp, "upload.zip")
        make_archive(archive, args.size_mib)
        size = os.path.getsize(archive)
        agent = env.agents[0]
        node = next(iter(env.nodes.values()))
        headers = {"Content-Length": str(size), "Content-Type": "application/zip"}
        base_portal = PeakMemory(env.web.pid).peak
        base_agent = PeakMemory(agent.pid).peak

        with PeakMemory(agent.pid) as agent_mem:
            started = time.perf_counter()
            with open(archive, "rb") as body:
                r = requests.post(f"{agent.url}/v1/workspace/archive", data=body, headers={**agent.headers, **headers})
            direct = time.perf_counter() - started
        r.raise_for_status()

        with PeakMemory(env.web.pid) as portal_mem, PeakMemory(agent.pid) as agent_mem2:
            started = time.perf_counter()
            with open(archive, "rb") as body:
                r = env.http.put(f"{env.url}/nodes/{node.pk}/files/upload/?archive=1", data=body, headers=headers)
            through = time.perf_counter() - started
        if r.status_code != 200:
            raise SystemExit(f"portal upload failed: {r.status_code} {r.text[:500]}")

        before_download = PeakMemory(env.web.pid).peak
        with PeakMemory(env.web.pid) as portal_dl:
            started = time.perf_counter()
            got = 0
            with env.http.get(f"{env.url}/nodes/{node.pk}/files/download/?path=payload.bin", stream=True) as r:
                r.raise_for_status()
                for piece in r.iter_content(MiB):
                    got += len(piece)
            download = time.perf_counter() - started

        mib = size / MiB
        print(f"archive: {mib:.0f} MiB (stored zip)")
        print(f"straight to the agent:   {mib / direct:7.1f} MiB/s ({direct:.1f} s); agent peak RSS "
              f"{agent_mem.peak / MiB:.0f} MiB (+{(agent_mem.peak - base_agent) / MiB:.1f})")
        print(f"through the portal:      {mib / through:7.1f} MiB/s ({through:.1f} s) = {direct / through:.0%} of "
              f"direct; web server peak RSS {portal_mem.peak / MiB:.0f} MiB (+{(portal_mem.peak - base_portal) / MiB:.1f}), "
              f"agent peak {agent_mem2.peak / MiB:.0f} MiB")
        print(f"download via the portal: {got / MiB / download:7.1f} MiB/s ({download:.1f} s); web server peak RSS "
              f"{portal_dl.peak / MiB:.0f} MiB (+{(portal_dl.peak - before_download) / MiB:.1f} over its RSS before the download)")


if __name__ == "__main__":
    main()
