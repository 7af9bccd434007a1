"""Pushing HTML fragments to pages that listen on a channel-layer group (see portal.consumers)."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

log = logging.getLogger(__name__)


def group_name(kind, pk):
    return f"live.{kind}.{pk}"


def notify(group, fragment):
    """Send an HTML fragment (usually elements with hx-swap-oob) to every page in the group.

    `fragment` is a string, or a dict of language code -> string; each listener takes its own
    language. Live updates are best effort: a broken channel layer must not fail the task that
    changed the data, which is already saved and audited.
    """
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": "live.fragment", "html": fragment})
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("could not push a live update to %s", group)


def notify_template(group, template_name, context):
    """Render the template once per language and notify the group."""
    fragments = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            fragments[code] = render_to_string(template_name, context)
    notify(group, fragments)
