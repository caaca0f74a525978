from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from oms.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print it (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user '{username}'.")
        _, key = ApiToken.issue(user)
        self.stdout.write(key)
