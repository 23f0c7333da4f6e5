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


def test_every_string_marked_in_the_code_is_in_the_polish_catalogue(tmp_path, monkeypatch):
    """A new _() string that nobody ran `make translations` for would show in English."""
    from babel.messages.frontend import CommandLineInterface

    root = CATALOG.parents[4]
    pot = tmp_path / "messages.pot"
    monkeypatch.chdir(root)  # babel.cfg's patterns are relative to the repository
    # the same extraction as `make translations`
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(pot), "."])
    def keys(messages):  # a message is its context (pgettext) and its msgid
        return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in messages if m.id}

    with pot.open("rb") as fh:
        wanted = keys(read_po(fh))
    with CATALOG.open("rb") as fh:
        have = keys(read_po(fh, locale="pl"))
    assert len(wanted) > 300 and (None, "Orders") in wanted  # the extraction found the code's strings
    assert ("reward", "pending") in wanted  # and the templates' pgettext
    assert sorted(wanted - have) == []


def test_no_message_is_defined_twice():
    """Branches append to the catalogue and git merges them with merge=union (.gitattributes):
    two branches adding the same msgid would leave two entries, one silently ignored."""
    import re
    from collections import Counter

    # A message is its context (msgctxt, as pgettext gives one) and its msgid.
    ids = re.findall(r'^((?:msgctxt ".*"\n)?)msgid ((?:".*"\n)+)', CATALOG.read_text(encoding="utf-8"),
                     flags=re.M)
    assert [i for i, n in Counter(ids).items() if n > 1 and i[1].strip() != '""'] == []


def test_polish_speaks_to_the_partner_one_way_everywhere():
    """Pages, emails and messages say "ty" ("Twoje zamówienie", "możesz"), never the formal
    "Państwo" in some and not others."""
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="pl")
    formal = [message.id for message in catalog if message.id and any(
        re.search(r"\bPaństw(o|a|u|em)\b", text) for text in
        (message.string if isinstance(message.string, tuple) else (message.string,)) if text)]
    assert formal == []
