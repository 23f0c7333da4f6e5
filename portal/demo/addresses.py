"""Demo delivery addresses: one to three per partner, the first the default."""
from __future__ import annotations

import random

from sqlalchemy.orm import Session

from portal.accounts import addresses
from portal.accounts.models import DeliveryAddress, Partner

CITIES = [("Warszawa", "00"), ("Kraków", "30"), ("Gdańsk", "80"), ("Wrocław", "50"), ("Poznań", "60"),
          ("Łódź", "90"), ("Lublin", "20"), ("Toruń", "87"), ("Sopot", "81"), ("Olsztyn", "10")]
STREETS = ["Rynek", "ul. Długa", "ul. Kwiatowa", "ul. Polna", "ul. Ogrodowa", "ul. Lipowa",
           "ul. Słoneczna", "al. Jana Pawła II", "ul. Mickiewicza", "ul. Kościuszki", "ul. Portowa"]
LABELS = ["Main shop", "Warehouse", "Second shop"]


def load(session: Session, rng: random.Random, partners: list[Partner]) -> dict[int, dict]:
    """Add the addresses (helper, no commit); returns each partner's default address copy."""
    defaults = {}
    for partner in partners:
        city, prefix = rng.choice(CITIES)
        rows = []
        for n in range(rng.choice([1, 1, 2, 2, 3])):
            rows.append(DeliveryAddress(
                partner_id=partner.id, label=LABELS[n], recipient=partner.name if n != 1 else
                f"{partner.name} — goods in", street=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
                street2="" if n != 1 else "Gate 2", postal_code=f"{prefix}-{rng.randint(1, 999):03d}",
                city=city, country="PL", phone=f"+48 {rng.randint(500, 799)} {rng.randint(100, 999)} "
                                                f"{rng.randint(100, 999)}",
                is_default=n == 0,
            ))
        session.add_all(rows)
        session.flush()
        defaults[partner.id] = addresses.snapshot(rows[0])
    return defaults
