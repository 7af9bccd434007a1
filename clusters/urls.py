from django.urls import path

from . import views

app_name = "clusters"
urlpatterns = [
    path("", views.cluster_list, name="list"),
    path("add/", views.cluster_add, name="add"),
    path("select/", views.cluster_select, name="select"),
    path("import/", views.cluster_import, name="import"),
    path("<int:pk>/check/", views.cluster_check, name="check"),
    path("<int:pk>/delete/", views.cluster_delete, name="delete"),
    path("<int:pk>/summary/", views.cluster_summary, name="summary"),
]
