"""Settings from the environment: a wrong value stops start-up with a message that names it."""
from __future__ import annotations

from pathlib import Path

import pytest

from portal.config import ConfigError, load_config


@pytest.mark.parametrize(("name", "value"), [
    ("SESSION_IDLE_MINUTES", "abc"), ("SESSION_IDLE_MINUTES", "0"), ("SESSION_MAX_HOURS", "1.5"),
    ("API_TOKEN_HOURS", "-3"), ("INVITATION_DAYS", "seven"), ("TRUSTED_PROXIES", "-1"),
    ("DB_LOCK_TIMEOUT_MS", "5s"),
])
def test_a_setting_that_is_not_a_whole_number_in_range_is_named_in_the_error(
        monkeypatch, tmp_path: Path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"{name} must be a whole number of at least \d+, not '{value}'"):
        load_config(tmp_path, {"TRELLIS_ENV": "testing"})


def test_whole_number_settings_are_read_and_blank_means_the_default(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", " 45 ")
    monkeypatch.setenv("TRUSTED_PROXIES", "0")
    monkeypatch.setenv("DB_LOCK_TIMEOUT_MS", "")
    config = load_config(tmp_path, {"TRELLIS_ENV": "testing"})
    assert config["SESSION_IDLE_MINUTES"] == 45
    assert config["TRUSTED_PROXIES"] == 0
    assert config["DB_LOCK_TIMEOUT_MS"] == 5000
