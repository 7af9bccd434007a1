from django import template
from django.utils.html import format_html

from clusters.rows import short_age

register = template.Library()


@register.simple_tag
def age(moment):
    """'5m' with the exact time on hover."""
    if not moment:
        return ""
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(),
                       moment.strftime("%Y-%m-%d %H:%M:%S %Z"), short_age(moment))


@register.simple_tag(takes_context=True)
def sort_link(context, key, label):
    """A column header that sorts the table by `key` (click again for descending)."""
    request = context["request"]
    query = request.GET.copy()
    current = query.get("sort", "")
    query["sort"] = f"-{key}" if current == key else key
    query.pop("page", None)
    arrow = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
    return format_html('<a class="sort" href="?{}">{}{}</a>', query.urlencode(), label, arrow)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (None removes one)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()
