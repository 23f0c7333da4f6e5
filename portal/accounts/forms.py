from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional

from portal.accounts.models import PARTNER_STATUSES
from portal.accounts.passwords import MAX_LENGTH
from portal.web.form_base import Form


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])


class NewPasswordMixin:
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(NewPasswordMixin, Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(NewPasswordMixin, Form):
    """A new password chosen through a reset link."""


LANGUAGE_NAMES = {"en": "English", "pl": "Polski"}  # each in its own language, never translated


class LanguageForm(Form):
    """The footer's and the account page's language choice; ``next`` is where to go back to."""

    locale = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])
    next = HiddenField(validators=[Optional(), Length(max=2000)])


class AcceptInvitationForm(NewPasswordMixin, Form):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])


class InviteForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Full name"), validators=[Length(max=200)])
    role = SelectField(
        _l("Role"), choices=[SelectChoice("buyer", _l("Buyer")), SelectChoice("partner_admin", _l("Administrator"))]
    )


class PartnerForm(Form):
    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=200)])
    code = StringField(_l("Code"), validators=[DataRequired(), Length(min=2, max=40)])
    tier = SelectField(_l("Price tier"), choices=[], validators=[Optional()])
    manager = SelectField(_l("Account manager"), choices=[], validators=[Optional()])


class UserForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Full name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=[
        SelectChoice("account_manager", _l("Account manager")), SelectChoice("admin", _l("Administrator")),
        SelectChoice("partner_admin", _l("Partner administrator")), SelectChoice("buyer", _l("Buyer")),
    ])
    partner = StringField(_l("Partner code (partner users only)"), validators=[Length(max=40)])
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )


class PartnerStatusForm(Form):
    """The confirmation of a partner's new status (chosen on the partner page)."""

    status = HiddenField(validators=[AnyOf(PARTNER_STATUSES)])


class AddressForm(Form):
    label = StringField(_l("Label"), description=_l("How your colleagues recognise it, e.g. Main shop"),
                        validators=[DataRequired(), Length(max=80)])
    recipient = StringField(_l("Recipient (company or person)"), validators=[DataRequired(), Length(max=200)])
    street = StringField(_l("Street and number"), validators=[DataRequired(), Length(max=200)])
    street2 = StringField(_l("Address line 2 (optional)"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"), validators=[DataRequired(), Length(max=20)],
                              render_kw={"autocomplete": "postal-code"})
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=100)])
    country = StringField(_l("Country code"), default="PL", validators=[DataRequired(), Length(max=20)],
                          render_kw={"autocomplete": "country", "maxlength": 2})
    phone = StringField(_l("Phone for the driver (optional)"), validators=[Optional(), Length(max=40)],
                        render_kw={"autocomplete": "tel", "type": "tel"})
    make_default = BooleanField(_l("Deliver here unless the order says otherwise (default address)"))
