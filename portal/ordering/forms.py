from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from portal.core.text import MAX_QUERY
from portal.core.types import MAX_ROW_ID
from portal.ordering.cart import MAX_QUANTITY
from portal.ordering.orders import MAX_NOTE, MAX_PO_REFERENCE
from portal.web.form_base import Form


class QuantityForm(Form):
    quantity = IntegerField(_l("Quantity"), validators=[DataRequired(), NumberRange(min=1, max=MAX_QUANTITY)])


class QuickOrderForm(Form):
    lines = TextAreaField(_l("One line per product: SKU and quantity"),
                          validators=[Optional(), Length(max=100_000)])
    file = FileField(_l("…or upload a CSV file with columns sku,quantity"))


class CheckoutForm(Form):
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=100)])
    # The gross total the page showed: the order is refused if it would cost anything else.
    expected_total = HiddenField(validators=[Optional(), Length(max=20)])
    # The choices are the company's addresses (views.checkout); none when it has none yet.
    address_id = RadioField(_l("Deliver to"), choices=[], coerce=int, validators=[Optional()])
    po_reference = StringField(_l("Your PO reference (optional)"),
                               description=_l("Your own purchase-order number, up to 35 characters; "
                                              "it is shown on the order and in the CSV export."),
                               validators=[Optional(), Length(max=MAX_PO_REFERENCE)],
                               render_kw={"maxlength": MAX_PO_REFERENCE, "autocomplete": "off"})
    requested_delivery_date = DateField(_l("Requested delivery date (optional)"), validators=[Optional()])
    note = TextAreaField(_l("Note for the wholesaler (optional)"), validators=[Length(max=MAX_NOTE)])


class OrderFilterForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Order number or PO reference"), validators=[Optional(), Length(max=MAX_QUERY)],
                    render_kw={"type": "search"})
    status = SelectField(_l("Status"), choices=[], validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class ConfirmForm(Form):
    promised_date = DateField(_l("Promised delivery date"), validators=[Optional()])


class AddToCartForm(Form):
    # Hidden, but typed: whatever is posted must be an id the database can hold.
    product_id = IntegerField(widget=HiddenInput(),
                              validators=[DataRequired(), NumberRange(min=1, max=MAX_ROW_ID)])
    quantity = IntegerField(
        _l("Quantity"), default=1,
        validators=[DataRequired(), NumberRange(min=1, max=MAX_QUANTITY)],
    )


def _optional_id(value):
    return int(value) if value not in (None, "") else None


class StaffOrderFilterForm(OrderFilterForm):
    """The staff list's filters: the buyer's, a partner (among those the user looks after: the
    view sets the choices) and the search box."""

    partner = SelectField(_l("Partner"), choices=[], coerce=_optional_id, validators=[Optional()])
    q = SearchField(_l("Order number or PO reference"), validators=[Optional(), Length(max=MAX_QUERY)])
