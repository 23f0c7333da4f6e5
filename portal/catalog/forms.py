from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, NumberRange

from portal.services.cart import MAX_QUANTITY


class AddToCartForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField(
        _l("Quantity"), default=1,
        validators=[DataRequired(), NumberRange(min=1, max=MAX_QUANTITY)],
    )
