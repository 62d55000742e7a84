"""Load the 1000 users of ``bench/data/users.json`` into ``auth.User`` (and unload them).

Uses the historical model (``apps.get_model``) and ``bulk_create``. Passwords in the
file are already Django hashes; a value that is not one stops the migration rather than
storing plain text.
"""

import datetime as dt
import json
from pathlib import Path

from django.contrib.auth.hashers import identify_hasher
from django.db import migrations

USERS_FILE = Path(__file__).resolve().parent.parent / "data" / "users.json"
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "username",
    "password",
    "is_active",
    "is_staff",
    "is_superuser",
)


def _records() -> list[dict]:
    return json.loads(USERS_FILE.read_text(encoding="utf-8"))


def load_users(apps, schema_editor):
    """Insert every user of the file, with its hashed password, in a few bulk inserts."""
    User = apps.get_model("auth", "User")
    users = []
    for record in _records():
        try:
            identify_hasher(record["password"])
        except ValueError:
            raise ValueError(
                f"users.json: the password of {record['username']!r} is not a Django hash; "
                "regenerate the file with bench/data/generate_users.py"
            ) from None
        joined = dt.date.fromisoformat(record["date_joined"])
        users.append(
            User(
                **{field: record[field] for field in FIELDS},
                date_joined=dt.datetime(joined.year, joined.month, joined.day, tzinfo=dt.UTC),
            )
        )
    User.objects.using(schema_editor.connection.alias).bulk_create(users, batch_size=250)


def unload_users(apps, schema_editor):
    """Delete exactly the users the forward step inserted."""
    User = apps.get_model("auth", "User")
    usernames = [record["username"] for record in _records()]
    users = User.objects.using(schema_editor.connection.alias)
    for start in range(0, len(usernames), 250):  # stay under every backend's parameter limit
        users.filter(username__in=usernames[start : start + 250]).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(load_users, unload_users)]
