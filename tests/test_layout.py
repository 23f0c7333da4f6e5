"""The shape of the code: modules small enough to be one idea each."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def test_no_module_is_over_400_lines():
    big = {str(path.relative_to(ROOT)): n for package in ("portal", "forecasting")
           for path in (ROOT / package).rglob("*.py")
           if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert big == {}, "split these along their ideas: " + ", ".join(f"{k} ({v})" for k, v in big.items())
