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
    path("nodes/", views.node_list, name="nodes"),
    path("<int:pk>/nodes/<str:name>/", views.node_detail, name="node"),
    path("<int:pk>/nodes/<str:name>/<slug:action>/", views.node_action, name="node_action"),
    path("pods/", views.pod_list, name="pods"),
    path("<int:pk>/pods/<str:namespace>/<str:name>/", views.pod_detail, name="pod"),
    path("<int:pk>/pods/<str:namespace>/<str:name>/log/", views.pod_log, name="pod_log"),
    path("<int:pk>/pods/<str:namespace>/<str:name>/delete/", views.pod_delete, name="pod_delete"),
    path("<int:pk>/<slug:kind>s/delete-selected/", views.objects_delete_selected, name="delete_selected"),
    path("deployments/", views.deployment_list, name="deployments"),
    path("<int:pk>/deployments/<str:namespace>/<str:name>/<slug:action>/", views.deployment_action,
         name="deployment_action"),
    path("services/", views.service_list, name="services"),
    path("<int:pk>/services/<str:namespace>/<str:name>/delete/", views.service_delete, name="service_delete"),
    path("events/", views.event_list, name="events"),
    path("apply/", views.apply_manifest, name="apply"),
    path("stop-all/", views.stop_all, name="stop_all"),
]

from . import image_views  # noqa: E402 - the images and lab pages (their own module)

urlpatterns += [
    path("images/", image_views.images, name="images"),
    path("images/load/", image_views.image_load, name="image_load"),
    path("lab/", image_views.lab_page, name="lab"),
    path("lab/create/", image_views.lab_create, name="lab_create"),
    path("<int:pk>/lab/<slug:action>/", image_views.lab_cluster_action, name="lab_action"),
]
