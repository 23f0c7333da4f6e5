"""List msgids defined twice in the Polish catalogue (after a union merge of two branches)."""
import re
import sys
from collections import Counter
from pathlib import Path

text = Path(__file__).resolve().parents[1].joinpath("portal/translations/pl/LC_MESSAGES/messages.po").read_text()
ids = re.findall(r'^msgid ((?:".*"\n)+)', text, flags=re.M)
twice = [i for i, n in Counter(ids).items() if n > 1 and i.strip() != '""']
for msgid in twice:
    print(msgid.strip())
sys.exit(1 if twice else 0)
