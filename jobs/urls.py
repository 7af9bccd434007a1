from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.submit, name="submit"),
    path("new/form/", views.submit_form, name="submit_form"),
    path("new/yaml/", views.submit_yaml, name="submit_yaml"),
    path("new/preview/", views.preview, name="preview"),
    path("templates/save/", views.template_save, name="template_save"),
    path("submissions/<uuid:batch>/", views.batch, name="batch"),
    path("history/", views.history, name="history"),
    path("history/<int:pk>/", views.submission, name="submission"),
    path("queues/", views.queue_list, name="queues"),
    path("queues/create/", views.queue_create, name="queue_create"),
    path("queues/<int:cluster_pk>/<str:name>/<slug:action>/", views.queue_action, name="queue_action"),
    path("<int:cluster_pk>/<str:namespace>/<str:name>/", views.job_detail, name="detail"),
    path("<int:cluster_pk>/<str:namespace>/<str:name>/<slug:action>/", views.job_action, name="action"),
]
