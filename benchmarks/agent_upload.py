"""Upload and download throughput of the node agent, and its peak memory, for a large archive.

    .venv/bin/python benchmarks/agent_upload.py               # 1 GiB
    .venv/bin/python benchmarks/agent_upload.py --size-mib 64

Builds a zip (stored, not compressed) holding one file of incompressible data in a temp dir, starts a real
agent on 127.0.0.1, uploads the archive as a streamed request body (POST /v1/workspace/archive: the time
includes writing the body to disk, checking and extracting it and swapping it in), downloads the file
back (GET /v1/files/content), and samples the agent's memory throughout.
"""

import argparse
import os
import sys
import tempfile
import threading
import time
import zipfile

import psutil
import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.support.agent_process import start_agent  # noqa: E402

MiB = 1024 * 1024


def make_archive(path: str, size_mib: int) -> None:
    block = os.urandom(MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        with zf.open(zipfile.ZipInfo("payload.bin"), "w", force_zip64=True) as out:
            for i in range(size_mib):
                # vary each MiB cheaply so nothing along the way could deduplicate it
                out.write(i.to_bytes(8, "little") + block[8:])


class PeakMemory:
    def __init__(self, pid: int):
        self.proc = psutil.Process(pid)
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def vm_hwm(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agent-bench-") as tmp:
        archive = os.path.join(tmp, "payload.zip")
        print(f"writing a {args.size_mib} MiB archive ...", flush=True)
        make_archive(archive, args.size_mib)
        size = os.path.getsize(archive)
        agent = start_agent(workspace=os.path.join(tmp, "ws"), state_dir=os.path.join(tmp, "state"),
                            extra_args=["--max-upload-bytes", str(2 * size)])
        try:
            time.sleep(0.5)
            baseline = psutil.Process(agent.pid).memory_info().rss
            with PeakMemory(agent.pid) as upload_mem, open(archive, "rb") as body:
                began = time.monotonic()
                response = requests.post(f"{agent.url}/v1/workspace/archive", data=body, headers=agent.headers,
                                         params={"keep": ""}, timeout=3600)
                upload_seconds = time.monotonic() - began
            response.raise_for_status()
            with PeakMemory(agent.pid) as put_mem, open(archive, "rb") as body:
                began = time.monotonic()
                requests.put(f"{agent.url}/v1/files/content", data=body, headers=agent.headers,
                             params={"path": "copy.zip"}, timeout=3600).raise_for_status()
                put_seconds = time.monotonic() - began
            with PeakMemory(agent.pid) as download_mem:
                began = time.monotonic()
                received = 0
                with requests.get(f"{agent.url}/v1/files/content", params={"path": "payload.bin"},
                                  headers=agent.headers, stream=True, timeout=3600) as download:
                    download.raise_for_status()
                    for chunk in download.iter_content(chunk_size=MiB):
                        received += len(chunk)
                download_seconds = time.monotonic() - began
            hwm = vm_hwm(agent.pid)
        finally:
            agent.stop()
    print(f"archive: {size / MiB:.0f} MiB (zip, stored)")
    print(f"upload (stream to disk + check + extract + swap): {upload_seconds:.2f} s, "
          f"{size / MiB / upload_seconds:.0f} MiB/s")
    print(f"single-file upload of the same bytes (PUT /v1/files/content, stream to disk only): "
          f"{put_seconds:.2f} s, {size / MiB / put_seconds:.0f} MiB/s")
    print(f"download: {received / MiB:.0f} MiB in {download_seconds:.2f} s, "
          f"{received / MiB / download_seconds:.0f} MiB/s")
    print(f"agent RSS: baseline {baseline / MiB:.1f} MiB, peak during upload {upload_mem.peak / MiB:.1f} MiB "
          f"(+{(upload_mem.peak - baseline) / MiB:.1f}), during PUT {put_mem.peak / MiB:.1f} MiB, peak during download {download_mem.peak / MiB:.1f} MiB "
          f"(+{(download_mem.peak - baseline) / MiB:.1f}), VmHWM {hwm / MiB:.1f} MiB")


if __name__ == "__main__":
    main()
