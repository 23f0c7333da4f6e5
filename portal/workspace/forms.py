from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField
from wtforms.validators import Length, NumberRange, Optional

from portal.core.paging import MAX_PAGE
from portal.core.text import MAX_QUERY


class PartnerSearchForm(FlaskForm):
    """The partner list's filters, read from the address bar (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search partners"), validators=[Optional(), Length(max=MAX_QUERY)])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)], default=1)
