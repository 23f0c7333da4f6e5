from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import DataRequired, NumberRange
from wtforms.widgets import HiddenInput

from portal.models import MAX_ROW_ID
from portal.services.cart import MAX_QUANTITY


class AddToCartForm(FlaskForm):
    # Hidden, but typed: whatever is posted must be an id the database can hold.
    product_id = IntegerField(widget=HiddenInput(),
                              validators=[DataRequired(), NumberRange(min=1, max=MAX_ROW_ID)])
    quantity = IntegerField(
        _l("Quantity"), default=1,
        validators=[DataRequired(), NumberRange(min=1, max=MAX_QUANTITY)],
    )
