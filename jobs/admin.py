from django.contrib import admin

from .models import JobAction, JobSubmission, JobTemplate


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: seen in the admin, never changed there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JobSubmission)
class JobSubmissionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user_name", "cluster_name", "kind", "namespace", "name", "result", "phase"]
    list_filter = ["result", "phase", "kind", "cluster_name"]
    search_fields = ["name", "namespace", "user_name", "uid", "error"]
    date_hierarchy = "created_at"


@admin.register(JobAction)
class JobActionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user_name", "cluster_name", "namespace", "name", "action", "result", "command"]
    list_filter = ["action", "result", "cluster_name"]
    search_fields = ["name", "namespace", "user_name", "uid", "message"]
    date_hierarchy = "created_at"


@admin.register(JobTemplate)
class JobTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "updated_at"]
    search_fields = ["name", "description"]
