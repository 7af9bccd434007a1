"""Two templates to start from: the seed's busybox sleep job and a PyTorch training job."""

from django.db import migrations

TEMPLATES = [
    {
        "name": "busybox sleep",
        "description": "The classic Volcano test job: two busybox pods that sleep for a minute.",
        "values": {"name": "test-job", "namespace": "default", "queue": "default", "task_name": "sleep",
                   "image": "busybox", "command": "sleep 60", "replicas": "2", "min_available": "1",
                   "restart_policy": "Never", "max_retry": "3", "gpus": "0"},
    },
    {
        "name": "PyTorch training",
        "description": "Two GPU workers scheduled together (gang) running python train.py in /workspace; choose where /workspace comes from.",
        "values": {"name": "pytorch-train", "namespace": "default", "queue": "default", "task_name": "worker",
                   "image": "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime", "command": "python train.py",
                   "replicas": "2", "min_available": "2", "cpu_request": "4", "cpu_limit": "8",
                   "memory_request": "16Gi", "memory_limit": "32Gi", "gpus": "1", "restart_policy": "OnFailure",
                   "max_retry": "3", "env": "PYTHONUNBUFFERED=1", "workspace": "emptyDir"},
    },
]


def create_templates(apps, schema_editor):
    JobTemplate = apps.get_model("jobs", "JobTemplate")
    for template in TEMPLATES:
        JobTemplate.objects.get_or_create(name=template["name"], defaults={
            "description": template["description"], "values": template["values"]})


def remove_templates(apps, schema_editor):
    apps.get_model("jobs", "JobTemplate").objects.filter(name__in=[t["name"] for t in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]
    operations = [migrations.RunPython(create_templates, remove_templates)]
