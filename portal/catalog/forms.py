from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.catalog.admin import MAX_PACK_SIZE, MAX_PRICE
from portal.core.vat import DEFAULT_VAT_RATE, VAT_RATES
from portal.web.form_base import Form
from portal.web.forms import AmountField

_AMOUNT = {"inputmode": "decimal"}


class ProductForm(Form):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    category = StringField(_l("Category"), validators=[Length(max=80)])
    unit = StringField(_l("Unit"), default="pcs", validators=[DataRequired(), Length(max=20)])
    pack_size = IntegerField(_l("Pack size"), default=1,
                             validators=[InputRequired(), NumberRange(min=1, max=MAX_PACK_SIZE)])
    base_price = AmountField(_l("List price (net of VAT)"), places=None, render_kw=_AMOUNT,
                              validators=[InputRequired(), NumberRange(min=0, max=MAX_PRICE)])
    vat_rate = SelectField(_l("VAT rate"), choices=[SelectChoice(rate, f"{rate}%") for rate in VAT_RATES],
                           coerce=int, default=DEFAULT_VAT_RATE, validators=[Optional()])
    active = BooleanField(_l("Sold (shown in the catalog)"), default=True)


class CatalogImportForm(Form):
    file = FileField(
        _l("CSV file with columns sku,name,category,unit,pack_size,base_price[,active][,vat_rate]"))


class TierForm(Form):
    name = StringField(_l("Tier name"), validators=[DataRequired(), Length(max=80)])
    discount_percent = AmountField(_l("Discount off list prices (%)"), places=None, default=0,
                                    render_kw=_AMOUNT,
                                    validators=[InputRequired(), NumberRange(min=0, max=100)])


class TierPriceForm(Form):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=40)])
    price = AmountField(_l("Explicit price"), places=None, render_kw=_AMOUNT,
                         validators=[InputRequired(), NumberRange(min=0, max=MAX_PRICE)])


class AssignTierForm(Form):
    partner = SelectField(_l("Partner"), choices=[], validators=[DataRequired()])
    tier = SelectField(_l("Price tier"), choices=[], validators=[Optional()])
