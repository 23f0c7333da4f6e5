"""The base of every form: Flask-WTF's, with WTForms' own messages ("This field is required.",
"Not a valid integer value.") translated from a catalogue read once per language.

Flask-WTF reads and parses WTForms' message catalogue from disk again in every request that
builds a form; these catalogues never change while the app runs, so one per locale is kept.
"""
from __future__ import annotations

from functools import lru_cache

from babel import support
from flask import has_request_context
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@lru_cache(maxsize=16)
def _catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def _current() -> support.NullTranslations | None:
    locale = get_locale() if has_request_context() else None
    return _catalogue(str(locale)) if locale is not None else None


class _Translations:
    """What WTForms asks of a form's translations: gettext and ngettext, in the request's language."""

    def gettext(self, string: str) -> str:
        catalogue = _current()
        return string if catalogue is None else catalogue.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        catalogue = _current()
        if catalogue is None:
            return singular if n == 1 else plural
        return catalogue.ungettext(singular, plural, n)


TRANSLATIONS = _Translations()


class Form(FlaskForm):
    """A Flask-WTF form (CSRF, request data) whose WTForms messages come from the cached catalogue."""

    class Meta:
        def get_translations(self, form):
            return TRANSLATIONS
