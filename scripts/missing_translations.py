"""Print the msgids marked in the code that the Polish catalogue lacks, as .po entries to fill in.

    .venv/bin/python scripts/missing_translations.py >> portal/translations/pl/LC_MESSAGES/messages.po

(then write each msgstr). The same extraction as `make translations` and the translations test,
without rewriting the whole catalogue, so parallel branches add entries without conflicts.
"""
from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "portal/translations/pl/LC_MESSAGES/messages.po"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    import os

    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_l",
                                    "-k", "lazy_gettext", "-o", str(pot), "."])
        wanted = read_po(io.BytesIO(pot.read_bytes()))
    have = read_po(io.BytesIO(CATALOG.read_bytes()), locale="pl")
    known = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in have if m.id}
    for message in wanted:
        key = message.id if isinstance(message.id, str) else message.id[0] if message.id else None
        if not key or (message.context, key) in known:
            continue
        print()
        if message.context:
            print(f"msgctxt {_quote(message.context)}")
        if isinstance(message.id, str):
            print(f"msgid {_quote(message.id)}\nmsgstr \"\"")
        else:
            print(f"msgid {_quote(message.id[0])}\nmsgid_plural {_quote(message.id[1])}")
            print('msgstr[0] ""\nmsgstr[1] ""\nmsgstr[2] ""')
    return 0


if __name__ == "__main__":
    sys.exit(main())
