import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Make sure an administrator exists. With PORTAL_ADMIN_USER / PORTAL_ADMIN_PASSWORD set, create or "
        "reset that user; otherwise, if there is no superuser yet, create 'admin' with a one-time password "
        "that is printed once. Never a fixed default password."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("PORTAL_ADMIN_USER") or "admin"
        password = os.environ.get("PORTAL_ADMIN_PASSWORD")
        if not password and User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Log in with your admin account (reset a password with: "
                              ".venv/bin/python manage.py changepassword NAME).")
            return
        user, created = User.objects.get_or_create(username=username)
        generated = None if password else secrets.token_urlsafe(12)
        user.set_password(password or generated)
        user.is_staff = user.is_superuser = True
        user.save()
        user.groups.add(Group.objects.get(name="admin"))
        if generated:
            self.stdout.write(
                f"Log in as {username} with this one-time password: {generated}\n"
                "  It is shown only now: change it after logging in "
                f"(or: .venv/bin/python manage.py changepassword {username})."
            )
        else:
            self.stdout.write(f"Log in as {username} with the password from PORTAL_ADMIN_PASSWORD.")
