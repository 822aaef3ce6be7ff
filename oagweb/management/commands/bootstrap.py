"""Creates the demo team and an admin user on first start; prints how to log in."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from oagweb.models import Membership, Role, Team

DEMO_TEAM = "Demo"


class Command(BaseCommand):
    help = "Create the demo team and an admin user if they do not exist yet."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        username = os.environ.get("OAG_ADMIN_USERNAME", "admin")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        password = None
        if user is None:
            password = os.environ.get("OAG_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            user = User.objects.create_superuser(username=username, email="", password=password)
        team, _ = Team.objects.get_or_create(slug="demo", defaults={"name": DEMO_TEAM})
        Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.OWNER})
        self._announce(username, password)

    def _announce(self, username: str, password: str | None) -> None:
        line = "=" * 64
        self.stdout.write(line)
        self.stdout.write("oagweb: http://127.0.0.1:8000   MLflow: http://127.0.0.1:5000")
        if password:
            self.stdout.write(f"Log in as {username!r} with password {password!r}")
            self.stdout.write("(shown once; change it with: "
                              ".venv/bin/python manage.py changepassword "
                              f"{username})")
        else:
            self.stdout.write(f"Log in as {username!r} (password set earlier; reset with "
                              f".venv/bin/python manage.py changepassword {username})")
        self.stdout.write(line)
