"""The account manager's workspace: the portfolio of partners and the tasks the outbox leaves for phone and visit."""
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, IntegerField, SearchField, SelectChoice, SelectField, StringField, TelField
from wtforms.validators import Length, NumberRange, Optional

from portal.accounts.models import CHANNELS
from portal.core.text import MAX_QUERY
from portal.web.form_base import Form
from portal.web.forms import PageForm
from portal.workspace.partner_settings import MAX_CONTACT_DAYS


class PartnerSearchForm(PageForm):
    """The partner list's filters, read from the address bar (GET, so no CSRF token)."""

    q = SearchField(_l("Search partners"), validators=[Optional(), Length(max=MAX_QUERY)])


def _optional_id(value):
    return int(value) if value not in (None, "") else None


class PartnerSettingsForm(Form):
    """A partner's settings on its page; the view removes what the user may not change and fills
    the tier and manager choices."""

    tier = SelectField(_l("Price tier"), choices=[], coerce=_optional_id)
    manager = SelectField(_l("Account manager"), choices=[], coerce=_optional_id)
    preferred_channel = SelectField(_l("Preferred channel"), choices=[
        SelectChoice(channel, label) for channel, label in zip(CHANNELS, (
            _l("Email"), _l("Phone"), _l("Visit"), _l("No contact")), strict=True)])
    contact_every_days = IntegerField(
        _l("Contact every (days)"),
        validators=[Optional(), NumberRange(min=1, max=MAX_CONTACT_DAYS)])
    contact_name = StringField(_l("Contact person"), validators=[Length(max=200)])
    contact_email = EmailField(_l("Contact email"), validators=[Length(max=254)])
    contact_phone = TelField(_l("Contact phone"), validators=[Length(max=40)])

    # form field -> the partner's column
    COLUMNS = {"tier": "price_tier_id", "manager": "account_manager_id",
               "preferred_channel": "preferred_channel", "contact_every_days": "contact_every_days",
               "contact_name": "contact_name", "contact_email": "contact_email",
               "contact_phone": "contact_phone"}
