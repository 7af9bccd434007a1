from django.contrib import admin

from .models import AgentConfig, Node, NodeSample, Run


@admin.register(AgentConfig)
class AgentConfigAdmin(admin.ModelAdmin):
    list_display = ["cluster", "namespace", "port", "updated_at"]
    exclude = ["token"]  # set on the Nodes page; never shown back


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "status", "agent_version", "pod_name", "url", "last_seen"]
    list_filter = ["status", "cluster"]
    search_fields = ["name", "pod_name", "url"]
    exclude = ["token"]
    readonly_fields = ["status", "status_message", "agent_version", "last_seen", "pod_namespace", "pod_name",
                       "pod_ready"]


@admin.register(NodeSample)
class NodeSampleAdmin(admin.ModelAdmin):
    list_display = ["node", "at", "cpu_percent", "memory_percent", "disk_percent"]
    list_filter = ["node"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Run history is read-only: what ran, where, by whom and how it ended must not change."""

    list_display = ["pk", "node_name", "user_name", "command", "state", "exit_code", "created_at", "ended_at"]
    list_filter = ["state", "node_name"]
    search_fields = ["command", "user_name", "node_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
