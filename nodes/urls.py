from django.urls import path

from . import views

app_name = "nodes"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("cards/", views.cards, name="cards"),
    path("register/", views.register, name="register"),
    path("settings/<int:cluster_pk>/", views.agent_settings, name="agent_settings"),
    path("files/", views.files_index, name="files"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/interrupt/", views.run_interrupt, name="run_interrupt"),
    path("runs/<int:pk>/rerun/", views.run_rerun, name="run_rerun"),
    path("runs/<int:pk>/log/", views.run_log, name="run_log"),
    path("<int:pk>/", views.node_detail, name="detail"),
    path("<int:pk>/unregister/", views.unregister, name="unregister"),
    path("<int:pk>/run/", views.run_start, name="run_start"),
    path("<int:pk>/files/", views.files, name="browse"),
    path("<int:pk>/files/preview/", views.preview, name="preview"),
    path("<int:pk>/files/download/", views.download, name="download"),
    path("<int:pk>/files/upload/", views.upload, name="upload"),
    path("<int:pk>/files/delete/", views.delete, name="delete"),
    path("<int:pk>/files/mkdir/", views.mkdir, name="mkdir"),
    path("<int:pk>/files/clear/", views.clear, name="clear"),
    path("<int:pk>/files/copy/", views.copy, name="copy"),
]
