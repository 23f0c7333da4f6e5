from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.services.cart import MAX_QUANTITY
from portal.services.orders import MAX_NOTE


class QuantityForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), validators=[DataRequired(), NumberRange(min=1, max=MAX_QUANTITY)])


class QuickOrderForm(FlaskForm):
    lines = TextAreaField(_l("One line per product: SKU and quantity"),
                          validators=[Optional(), Length(max=100_000)])
    file = FileField(_l("…or upload a CSV file with columns sku,quantity"))


class CheckoutForm(FlaskForm):
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=100)])
    requested_delivery_date = DateField(_l("Requested delivery date (optional)"), validators=[Optional()])
    note = TextAreaField(_l("Note for the wholesaler (optional)"), validators=[Length(max=MAX_NOTE)])


class OrderFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    status = SelectField(_l("Status"), choices=[], validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class ConfirmForm(FlaskForm):
    promised_date = DateField(_l("Promised delivery date"), validators=[Optional()])
