import shlex

import yaml
from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from clusters.models import Cluster

from .models import JobTemplate
from .volcano_schema import QUEUE_API_VERSION, VCJOB_API_VERSION

dns_label = RegexValidator(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    _("Use lowercase letters, digits and '-', starting and ending with a letter or digit."),
)
GPU_RESOURCE = "nvidia.com/gpu"
WORKSPACE_PATH = "/workspace"


def as_yaml(manifest):
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, default_flow_style=False)


class ClusterField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Cluster.objects.all(), label=_("Cluster"), empty_label=None, **kwargs)


class YamlSubmitForm(forms.Form):
    cluster = ClusterField()
    namespace = forms.CharField(label=_("Namespace"), initial="default", max_length=63, validators=[dns_label],
                                help_text=_("For documents that name no namespace."))
    manifest = forms.CharField(label=_("YAML"), required=False, strip=False,
                               widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}))
    upload = forms.FileField(label=_("or upload a file"), required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload:
            try:
                data["manifest"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text."))
        if not (data.get("manifest") or "").strip():
            raise forms.ValidationError(_("Paste a manifest or choose a file."))
        return data


class JobForm(forms.Form):
    """The common case of a Volcano job, no YAML needed: one task of identical pods."""

    RESTART_POLICIES = [("OnFailure", "OnFailure"), ("Never", "Never"), ("Always", "Always")]
    WORKSPACES = [("", _("none")), ("emptyDir", _("empty directory (emptyDir)")),
                  ("hostPath", _("directory on the node (hostPath)")),
                  ("pvc", _("persistent volume claim"))]

    cluster = ClusterField()
    name = forms.CharField(label=_("Job name"), max_length=63, validators=[dns_label])
    namespace = forms.CharField(label=_("Namespace"), initial="default", max_length=63, validators=[dns_label])
    queue = forms.CharField(label=_("Queue"), initial="default", max_length=253)
    task_name = forms.CharField(label=_("Task name"), initial="worker", max_length=63, validators=[dns_label])
    image = forms.CharField(label=_("Image"), max_length=500)
    command = forms.CharField(label=_("Command"), required=False, max_length=4000,
                              help_text=_('As in a shell, e.g. python train.py --epochs 3 or sh -c "sleep 60"'))
    replicas = forms.IntegerField(label=_("Replicas"), min_value=1, max_value=10000, initial=1)
    min_available = forms.IntegerField(
        label=_("Min available"), min_value=0, required=False,
        help_text=_("Gang scheduling: the pods that must be placed together before any starts (default: all)."))
    cpu_request = forms.CharField(label=_("CPU request"), required=False, max_length=20)
    cpu_limit = forms.CharField(label=_("CPU limit"), required=False, max_length=20)
    memory_request = forms.CharField(label=_("Memory request"), required=False, max_length=20)
    memory_limit = forms.CharField(label=_("Memory limit"), required=False, max_length=20)
    gpus = forms.IntegerField(label=_("GPUs per pod"), min_value=0, max_value=64, initial=0, required=False)
    restart_policy = forms.ChoiceField(label=_("Restart policy"), choices=RESTART_POLICIES, initial="OnFailure")
    max_retry = forms.IntegerField(label=_("Max retries"), min_value=0, max_value=1000, initial=3)
    priority_class = forms.CharField(label=_("Priority class"), required=False, max_length=253)
    env = forms.CharField(label=_("Environment"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                          help_text=_("One NAME=value a line."))
    workspace = forms.ChoiceField(label=_("Volume for /workspace"), choices=WORKSPACES, required=False)
    workspace_source = forms.CharField(label=_("Host path or claim name"), required=False, max_length=253)

    def clean_command(self):
        try:
            return shlex.split(self.cleaned_data["command"])
        except ValueError:
            raise forms.ValidationError(_("The command has a quote that is not closed."))

    def clean_env(self):
        variables = []
        for number, line in enumerate(self.cleaned_data["env"].splitlines(), 1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise forms.ValidationError(_("Line %(number)s of the environment is not NAME=value.")
                                            % {"number": number})
            variables.append({"name": name.strip(), "value": value})
        return variables

    def clean(self):
        data = super().clean()
        if data.get("workspace") in ("hostPath", "pvc") and not data.get("workspace_source"):
            self.add_error("workspace_source", _("Give the host path or the claim name."))
        replicas, minimum = data.get("replicas"), data.get("min_available")
        if replicas and minimum is not None and minimum > replicas:
            self.add_error("min_available", _("Min available cannot be more than the replicas (%(replicas)s).")
                           % {"replicas": replicas})
        return data

    def manifest(self):
        """The Volcano Job these values describe (call after is_valid())."""
        data = self.cleaned_data
        container = {"name": data["task_name"], "image": data["image"]}
        if data["command"]:
            container["command"] = data["command"]
        if data["env"]:
            container["env"] = data["env"]
        requests, limits = {}, {}
        for resource, request, limit in (("cpu", data["cpu_request"], data["cpu_limit"]),
                                         ("memory", data["memory_request"], data["memory_limit"])):
            if request:
                requests[resource] = request
            if limit:
                limits[resource] = limit
        if data.get("gpus"):
            requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(data["gpus"])  # extended: request == limit
        if requests or limits:
            container["resources"] = {key: value for key, value in (("requests", requests), ("limits", limits))
                                      if value}
        pod = {"restartPolicy": data["restart_policy"], "containers": [container]}
        volume = {
            "emptyDir": {"emptyDir": {}},
            "hostPath": {"hostPath": {"path": data["workspace_source"], "type": "DirectoryOrCreate"}},
            "pvc": {"persistentVolumeClaim": {"claimName": data["workspace_source"]}},
        }.get(data.get("workspace"))
        if volume:
            pod["volumes"] = [{"name": "workspace", **volume}]
            container["volumeMounts"] = [{"name": "workspace", "mountPath": WORKSPACE_PATH}]
            container["workingDir"] = WORKSPACE_PATH
        spec = {
            "schedulerName": "volcano",
            "queue": data["queue"],
            "minAvailable": data["replicas"] if data["min_available"] is None else data["min_available"],
            "maxRetry": data["max_retry"],
            "tasks": [{"name": data["task_name"], "replicas": data["replicas"], "template": {"spec": pod}}],
        }
        if data["priority_class"]:
            spec["priorityClassName"] = data["priority_class"]
        return {"apiVersion": VCJOB_API_VERSION, "kind": "Job",
                "metadata": {"name": data["name"], "namespace": data["namespace"]}, "spec": spec}

    def template_values(self):
        """The values to keep in a JobTemplate (everything but the cluster), as the form takes them."""
        values = {name: value for name, value in self.data.items() if name in self.fields and name != "cluster"}
        return values


class TemplateForm(forms.Form):
    template_name = forms.CharField(label=_("Template name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=255, required=False)

    def clean_template_name(self):
        return self.cleaned_data["template_name"].strip()


def template_initial(template: JobTemplate):
    return {name: value for name, value in template.values.items() if name in JobForm.base_fields}


class QueueForm(forms.Form):
    cluster = ClusterField()
    name = forms.CharField(label=_("Queue name"), max_length=63, validators=[dns_label])
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=65535, initial=1,
                                help_text=_("Its share of the cluster relative to the other queues."))
    reclaimable = forms.BooleanField(label=_("Reclaimable"), required=False, initial=True,
                                     help_text=_("Other queues may take back what it uses beyond its share."))
    capability_cpu = forms.CharField(label=_("Capability: CPU"), required=False, max_length=20)
    capability_memory = forms.CharField(label=_("Capability: memory"), required=False, max_length=20)
    capability_gpu = forms.CharField(label=_("Capability: GPUs"), required=False, max_length=20)
    deserved_cpu = forms.CharField(label=_("Deserved: CPU"), required=False, max_length=20)
    deserved_memory = forms.CharField(label=_("Deserved: memory"), required=False, max_length=20)
    deserved_gpu = forms.CharField(label=_("Deserved: GPUs"), required=False, max_length=20)

    def manifest(self):
        data = self.cleaned_data
        spec = {"weight": data["weight"], "reclaimable": data["reclaimable"]}
        for section in ("capability", "deserved"):
            resources = {resource: data[f"{section}_{field}"]
                         for resource, field in (("cpu", "cpu"), ("memory", "memory"), (GPU_RESOURCE, "gpu"))
                         if data[f"{section}_{field}"]}
            if resources:
                spec[section] = resources
        return {"apiVersion": QUEUE_API_VERSION, "kind": "Queue", "metadata": {"name": data["name"]}, "spec": spec}
