"""Node usage: CPU sampled in the background, memory, workspace disk and GPUs through NVML."""

import os
import threading
import time

import psutil

try:
    import pynvml  # from nvidia-ml-py
except ImportError:  # pragma: no cover - depends on the image
    pynvml = None


class ResourceSampler:
    def __init__(self, workspace: str, interval: float = 1.0):
        self.workspace = workspace
        self.interval = interval
        self.cpu_percent = 0.0
        self.per_cpu = [0.0] * (psutil.cpu_count() or 1)
        self.sampled_at = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_forever, name="cpu-sampler", daemon=True)
        self.nvml = self._init_nvml()

    @staticmethod
    def _init_nvml() -> bool:
        if pynvml is None:
            return False
        try:
            pynvml.nvmlInit()
            return True
        except Exception:  # no driver, no device: report no GPUs
            return False

    def start(self) -> None:
        psutil.cpu_percent(interval=None)  # the first call only sets the baseline
        psutil.cpu_percent(interval=None, percpu=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.nvml:
            try:
                pynvml.nvmlShutdown()
            except Exception:
                pass

    def _sample_forever(self) -> None:
        while not self._stop.wait(self.interval):
            self.cpu_percent = psutil.cpu_percent(interval=None)
            self.per_cpu = psutil.cpu_percent(interval=None, percpu=True)
            self.sampled_at = time.time()

    def snapshot(self) -> dict:
        mem = psutil.virtual_memory()
        disk = psutil.disk_usage(self.workspace)
        return {
            "cpu": {
                "percent": self.cpu_percent,
                "per_cpu_percent": self.per_cpu,
                "count": psutil.cpu_count(),
                "load_average": list(os.getloadavg()),
                "sampled_at": self.sampled_at,
            },
            "memory": {"total": mem.total, "available": mem.available, "used": mem.used, "percent": mem.percent},
            "disk": {"path": self.workspace, "total": disk.total, "used": disk.used, "free": disk.free,
                     "percent": disk.percent},
            "gpus": self.gpus(),
        }

    def gpus(self) -> list[dict]:
        if not self.nvml:
            return []
        result = []
        try:
            count = pynvml.nvmlDeviceGetCount()
        except Exception:
            return []
        for index in range(count):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            result.append({
                "index": index,
                "name": _nvml(lambda: _text(pynvml.nvmlDeviceGetName(handle))),
                "utilization_percent": _nvml(lambda: pynvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                "memory_used": _nvml(lambda: pynvml.nvmlDeviceGetMemoryInfo(handle).used),
                "memory_total": _nvml(lambda: pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                "temperature_c": _nvml(lambda: pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)),
                "power_w": _nvml(lambda: pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0),
            })
        return result


def _nvml(read):
    """One NVML reading, or None where the device does not support it."""
    try:
        return read()
    except Exception:
        return None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
