from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.fields import EncryptedTextField


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field (kubeconfigs, agent tokens) with the first key of "
        "PORTAL_ENCRYPTION_KEYS. Rotation: put the new key first, keep the old one after it, run this, "
        "then remove the old key."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        for model in apps.get_models():
            fields = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = 0
            for row in model.objects.all():
                row.save(update_fields=fields)  # reading decrypted with any key; saving encrypts with the first
                count += 1
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted ({', '.join(fields)})")
