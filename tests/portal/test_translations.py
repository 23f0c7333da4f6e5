"""The Polish catalogue: complete, placeholders intact, three plural forms."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

CATALOG = Path(__file__).resolve().parents[2] / "portal/translations/pl/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%\(\w+\)\.\d+f")


def test_every_message_has_a_polish_translation_with_the_same_placeholders():
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="pl")
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != wanted:
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    assert not problems, "\n".join(problems)


def test_polish_plurals_use_three_forms(app):
    with app.test_request_context(), force_locale("pl"):
        words = {n: ngettext("%(num)d order", "%(num)d orders", n) for n in (1, 2, 5, 22, 25)}
    assert words == {1: "1 zamówienie", 2: "2 zamówienia", 5: "5 zamówień", 22: "22 zamówienia",
                     25: "25 zamówień"}
