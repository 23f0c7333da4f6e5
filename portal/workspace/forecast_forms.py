"""The forecast adjustment form of the staff partner page."""
from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.core.money import MAX_MONEY
from portal.web.form_base import Form
from portal.workspace.forecast_store import MAX_NOTE


class AdjustmentForm(Form):
    """Override the next-year total (``target`` "total") or one forecast month (``YYYY-MM-01``)."""

    target = SelectField(_l("What to adjust"), choices=[], validate_choice=True)
    amount = DecimalField(_l("Your figure (net)"), places=2,
                          validators=[InputRequired(), NumberRange(min=0, max=MAX_MONEY)])
    note = TextAreaField(_l("Why (required)"), validators=[DataRequired(), Length(max=MAX_NOTE)])
