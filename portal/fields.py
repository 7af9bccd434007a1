from cryptography.fernet import InvalidToken, MultiFernet, Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def fernet():
    try:
        return MultiFernet([Fernet(key.encode()) for key in settings.ENCRYPTION_KEYS])
    except ValueError as exc:
        raise ImproperlyConfigured(f"PORTAL_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}")


class EncryptedTextField(models.TextField):
    """Text kept encrypted at rest with the portal's Fernet keys (settings.ENCRYPTION_KEYS).

    Saving re-encrypts with the first key, so rotation is: prepend a new key, re-save every row
    (`manage.py rotate_encryption_key`), then remove the old key.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            raise ImproperlyConfigured(
                f"{self.model.__name__}.{self.name} cannot be decrypted with PORTAL_ENCRYPTION_KEYS"
            )

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return fernet().encrypt(value.encode()).decode()
