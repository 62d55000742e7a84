"""Generate ``users.json``: the 1000 fake users the data migration loads.

The original study used a Mockaroo export with nine keys per record:
``first_name, email, is_active, is_staff, is_superuser, last_name, password, username,
date_joined``. This script rebuilds a file of the same shape deterministically (fixed
seed, no network), with the original's proportions: unique usernames, ``is_superuser``
always false, ``is_staff`` true for exactly 487 of 1000, ``date_joined`` a plain date.

Passwords are never written in plain text: each record carries a Django
``pbkdf2_sha256`` hash of a random password (the password itself is discarded). The
iteration count is lowered from Django's default so generation and the migration stay
fast; Django accepts such hashes and upgrades them on the first successful login.

Usage (from the repository root): ``.venv/bin/python app/bench/data/generate_users.py``
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import string
from pathlib import Path

SEED = 20241008
COUNT = 1000
STAFF_COUNT = 487
HASH_ITERATIONS = 1000
OUTPUT = Path(__file__).with_name("users.json")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Abbie Adela Agna Alasdair Alfy Alida Ambrosi Anatol Annabal Archer Ardelis Arvie "
    "Aurea Bambie Barbee Basile Benedikta Berty Bibbie Blinni Boone Brena Brit Caitrin "
    "Callida Carling Cecil Chance Chiarra Cirillo Clemmy Colby Corrie Cristal Dael Dalton "
    "Darcee Delila Derk Dido Dionis Dorree Duff Edd Elladine Elvyn Emlen Erminia Evvy "
    "Fairleigh Farlee Fidelio Flinn Franny Gabbey Garik Gerianne Gilli Glynis Griswold "
    "Hadria Hamil Harwilll Hedi Hermon Hodge Hyacintha Ilaire Inness Isahella Jacquie "
    "Jaquith Jemima Jobey Jorrie Judon Kaela Karlan Keelby Kendal Kippy Konstance Lanae "
    "Laverna Leanor Lemmie Linnell Lorant Lucien Lyndsie Madelin Malina Marchall Marten "
    "Maxy Melloney Merridie Minny Modesty Morly Nadya Nappie Neddie Nicko Noam Obidiah "
    "Orelle Ossie Palmer Patten Perren Phillida Pooh Quentin Rafaelita Raychel Reinaldo "
    "Rhodie Robinett Rosalinde Rubetta Sallyann Sarette Sebastian Shanda Sibley Skipp "
    "Stafford Sula Tabbie Tedmund Thedric Tobit Trenna Tybie Umberto Valaria Verney "
    "Vivyan Waldon Wernher Wilmar Wyn Xena Yance Yovonnda Zacharie Zorana"
)

LAST_NAMES = _words(
    "Abrashkin Ackwood Ainslee Allworthy Andrejevic Arkcoll Ashby Aspin Bagworth Bamlett "
    "Barnwille Beamond Bellfield Benzies Biddlestone Blagden Bollon Bonnick Bracchi "
    "Brimilcome Brugsma Bullivent Cadreman Capineer Cattermull Chastagnier Claibourn "
    "Cockshtt Colbeck Corkett Crasswell Cuseick Dafter Darrigoe Deeves Dimmne Dobrowski "
    "Dowzell Dunnet Eglese Elsegood Esmonde Fairholme Fearnill Filyushkin Flewett Fontel "
    "Frankcombe Gabbitus Garfitt Gerriessen Gilliatt Glasscoo Goldsberry Grinishin "
    "Gwilliams Hallwood Hanshawe Haslock Heditch Hembling Hirtzmann Hoofe Huddles Ilyinykh "
    "Ivanchenkov Jedrachowicz Jorgesen Kabisch Keford Kilmurry Kleinbaum Labusquiere "
    "Lambdin Leathwood Lindenboim Lodovichi Lydiate MacAlaster Maddern Mapholm Matushevich "
    "McGaughey Meekin Mildmott Moorcraft Mulvin Nasey Nickolls Noyce Oakton Ollerenshaw "
    "Padbury Pashbee Pedri Philipsson Plumley Prescot Purrier Quilliam Rablan Ravenscroft "
    "Renner Ridolfo Roskams Ruperto Sandwick Scroggs Sheraton Simnel Skuce Sowter Stanier "
    "Stuchberry Szymanek Tebbit Thorndycraft Tolworthy Trimnell Twiggs Upstone Vaissiere "
    "Vickarman Waddie Warrior Wegner Whittlesey Wildsmith Woodyear Yakovich Zannotti"
)

# Reserved and fictional domains only: the data must never point at real mailboxes.
DOMAINS = _words(
    "example.com example.org example.net example.edu mail.example.com list.example.org "
    "uni.example.edu news.example.net shop.example.com dev.example.org"
)


def _password_hash(rng: random.Random) -> str:
    """A Django ``pbkdf2_sha256`` hash of a random password (the password is discarded)."""
    alphabet = string.ascii_letters + string.digits
    password = "".join(rng.choice(alphabet) for _ in range(12))
    salt = "".join(rng.choice(alphabet) for _ in range(22))
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), HASH_ITERATIONS)
    encoded = base64.b64encode(digest).decode("ascii").strip()
    return f"pbkdf2_sha256${HASH_ITERATIONS}${salt}${encoded}"


def generate(seed: int = SEED, count: int = COUNT) -> list[dict[str, object]]:
    """Return ``count`` user records with the original's nine keys, deterministically."""
    rng = random.Random(seed)
    staff = set(rng.sample(range(count), STAFF_COUNT * count // COUNT))
    start = dt.date(2023, 11, 1)
    records: list[dict[str, object]] = []
    usernames: set[str] = set()
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # Mockaroo-style handle: first initial, surname, a counter keeps it unique.
        username = f"{first[0].lower()}{last.lower()}{index:x}"
        assert username not in usernames
        usernames.add(username)
        records.append(
            {
                "first_name": first,
                "email": f"{username}@{rng.choice(DOMAINS)}",
                "is_active": rng.random() < 0.5,
                "is_staff": index in staff,
                "is_superuser": False,
                "last_name": last,
                "password": _password_hash(rng),
                "username": username,
                "date_joined": (start + dt.timedelta(days=rng.randrange(366))).isoformat(),
            }
        )
    return records


def main() -> None:
    """Write ``users.json`` next to this script."""
    OUTPUT.write_text(json.dumps(generate(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
