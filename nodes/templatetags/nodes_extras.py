from django import template

register = template.Library()


@register.filter
def duration(value):
    """A timedelta as 1:02:03 (or 2:03), for run durations."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
