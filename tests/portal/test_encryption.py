import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from clusters.models import Cluster


def raw_kubeconfig(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT kubeconfig FROM clusters_cluster WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_rotating_the_encryption_key(settings, cluster, kube_api):
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    assert kube_api.token in Cluster.objects.get().kubeconfig  # still readable during the rotation
    call_command("rotate_encryption_key", stdout=open("/dev/null", "w"))
    Fernet(new_key.encode()).decrypt(raw_kubeconfig(cluster.pk).encode())  # now under the new key
    settings.ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert kube_api.token in Cluster.objects.get().kubeconfig


@pytest.mark.django_db
def test_a_wrong_key_is_a_clear_configuration_error(settings, cluster):
    from django.core.exceptions import ImproperlyConfigured

    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted with PORTAL_ENCRYPTION_KEYS"):
        Cluster.objects.get()
