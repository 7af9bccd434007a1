import yaml
from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from portal.audit import Actor, record

from . import kube, services
from .models import Cluster


class ClusterAdminForm(forms.ModelForm):
    # Write-only: the stored kubeconfig is never put back into the page.
    new_kubeconfig = forms.CharField(
        label=_("Kubeconfig"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Paste a kubeconfig to set or replace the stored one (it is never shown back)."),
    )

    class Meta:
        model = Cluster
        fields = ["name", "context", "kind_cluster"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not data.get("new_kubeconfig"):
            raise forms.ValidationError(_("Paste a kubeconfig."))
        if data.get("new_kubeconfig"):
            try:
                kubeconfig = kube.parse_kubeconfig(data["new_kubeconfig"])
                data["single"] = kube.single_context_kubeconfig(kubeconfig, data.get("context", ""))
            except kube.KubeError as exc:
                raise forms.ValidationError(str(exc))
        return data


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    form = ClusterAdminForm
    list_display = ["name", "context", "server", "status", "server_version", "volcano_installed", "checked_at"]
    readonly_fields = ["server", "status", "status_message", "server_version", "volcano_installed", "checked_at"]
    actions = ["check_connection"]

    def save_model(self, request, obj, form, change):
        single = form.cleaned_data.get("single")
        if single:
            obj.kubeconfig = yaml.safe_dump(single)
            obj.server = kube.server_of(single)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        record(Actor.from_request(request), "cluster.change" if change else "cluster.add", obj.name,
               cluster=obj.name, message=_("through the admin"))
        if single:
            services.queue_check(Actor.from_request(request), obj)

    def delete_model(self, request, obj):
        services.delete_cluster(Actor.from_request(request), obj)

    @admin.action(description=_("Check the connection"))
    def check_connection(self, request, queryset):
        for cluster in queryset:
            services.check_connection(Actor.from_request(request), cluster)
        self.message_user(request, _("Checking %(count)d clusters.") % {"count": queryset.count()}, messages.INFO)
