from django.urls import path

from .consumers import LiveGroupConsumer

websocket_urlpatterns = [
    path("ws/live/<slug:kind>/<int:pk>/", LiveGroupConsumer.as_asgi()),
]
