"""Usage history as small server-rendered SVG line charts (no JavaScript, no chart library)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

RANGES = {
    "hour": (timedelta(hours=1), _("last hour")),
    "day": (timedelta(days=1), _("last day")),
    "week": (timedelta(days=7), _("last week")),
}
WIDTH, HEIGHT, BUCKETS = 600, 120, 240


@dataclass
class Series:
    label: str
    points: str  # SVG polyline points
    last: float | None
    peak: float | None
    css: str = "series-0"


@dataclass
class Chart:
    title: str
    series: list = field(default_factory=list)
    unit: str = "%"

    @property
    def empty(self):
        return not any(s.points for s in self.series)


def _bucketed(pairs, start, span):
    """Average (time, value) pairs into BUCKETS slots; the polyline skips empty slots."""
    sums, counts = [0.0] * BUCKETS, [0] * BUCKETS
    seconds = span.total_seconds()
    for at, value in pairs:
        if value is None:
            continue
        slot = int((at - start).total_seconds() / seconds * BUCKETS)
        if 0 <= slot < BUCKETS:
            sums[slot] += value
            counts[slot] += 1
    points = []
    for slot in range(BUCKETS):
        if counts[slot]:
            value = max(0.0, min(100.0, sums[slot] / counts[slot]))
            x = (slot + 0.5) * WIDTH / BUCKETS
            points.append(f"{x:.1f},{HEIGHT - value * HEIGHT / 100:.1f}")
    return " ".join(points)


def _series(label, pairs, start, span, css):
    values = [v for _at, v in pairs if v is not None]
    return Series(label, _bucketed(pairs, start, span), values[-1] if values else None,
                  max(values) if values else None, css)


def usage_charts(node, range_key="hour"):
    span, _label = RANGES.get(range_key, RANGES["hour"])
    start = timezone.now() - span
    samples = list(node.samples.filter(at__gte=start).order_by("at").values_list(
        "at", "cpu_percent", "memory_percent", "gpus"))
    cpu = Chart(_("CPU"), [_series(_("CPU %"), [(s[0], s[1]) for s in samples], start, span, "series-0")])
    memory = Chart(_("Memory"), [_series(_("memory %"), [(s[0], s[2]) for s in samples], start, span, "series-1")])
    gpu_indexes = sorted({g.get("index") for s in samples for g in s[3] or [] if g.get("index") is not None})
    gpu = Chart(_("GPU"))
    for n, index in enumerate(gpu_indexes):
        util = [(s[0], next((g.get("utilization_percent") for g in s[3] or [] if g.get("index") == index), None))
                for s in samples]
        mem = [(s[0], next((_percent(g.get("memory_used"), g.get("memory_total")) for g in s[3] or []
                            if g.get("index") == index), None)) for s in samples]
        gpu.series.append(_series(_("GPU %(index)s utilisation") % {"index": index}, util, start, span,
                                  f"series-{(2 * n) % 6}"))
        gpu.series.append(_series(_("GPU %(index)s memory") % {"index": index}, mem, start, span,
                                  f"series-{(2 * n + 1) % 6}"))
    charts = [cpu, memory]
    if gpu.series:
        charts.append(gpu)
    return charts, len(samples)


def _percent(used, total):
    if used is None or not total:
        return None
    return used * 100.0 / total
