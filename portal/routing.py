from django.urls import path

from clusters.consumers import PodLogConsumer
from nodes.consumers import RunLogConsumer

from .consumers import LiveGroupConsumer

websocket_urlpatterns = [
    path("ws/live/<slug:kind>/<int:pk>/", LiveGroupConsumer.as_asgi()),
    path("ws/pods/<int:pk>/<str:namespace>/<str:name>/log/", PodLogConsumer.as_asgi()),
    path("ws/runs/<int:pk>/log/", RunLogConsumer.as_asgi()),
]
