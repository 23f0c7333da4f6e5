from flask_babel import lazy_gettext as _l
from wtforms import SearchField
from wtforms.validators import Length, Optional

from portal.core.text import MAX_QUERY
from portal.web.forms import PageForm


class PartnerSearchForm(PageForm):
    """The partner list's filters, read from the address bar (GET, so no CSRF token)."""

    q = SearchField(_l("Search partners"), validators=[Optional(), Length(max=MAX_QUERY)])
