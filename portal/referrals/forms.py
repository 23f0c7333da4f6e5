"""The referral forms: the signed-in one, the public one behind a referral link, and staff's."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.labels import label
from portal.core.types import MAX_ROW_ID
from portal.referrals import intake, pipeline
from portal.referrals.models import STATUSES
from portal.web.form_base import Form
from portal.web.forms import PageForm


class ReferralForm(Form):
    company_name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=intake.MAX_NAME)])
    contact_name = StringField(_l("Person to contact"), validators=[DataRequired(), Length(max=intake.MAX_NAME)])
    email = EmailField(_l("Their email"), validators=[DataRequired(), Length(max=intake.MAX_EMAIL)])
    phone = TelField(_l("Their phone (optional)"), validators=[Length(max=intake.MAX_PHONE)])
    website = StringField(_l("Website (optional)"), validators=[Length(max=intake.MAX_WEBSITE)])
    city = StringField(_l("City or region (optional)"), validators=[Length(max=intake.MAX_CITY)])
    note = TextAreaField(_l("Why they would be a good partner (optional)"),
                         validators=[Length(max=intake.MAX_NOTE)])
    consent = BooleanField(_l("They agreed to be contacted by the wholesaler"))
    # One key per form shown: a double click or a resubmitted page stores one referral.
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=100)])

    def data_for_intake(self, referrer_name: str = "") -> intake.ReferralData:
        return intake.ReferralData(
            company_name=self.company_name.data or "", contact_name=self.contact_name.data or "",
            email=self.email.data or "", phone=self.phone.data or "", website=self.website.data or "",
            city=self.city.data or "", note=self.note.data or "", consent=bool(self.consent.data),
            referrer_name=referrer_name)


class PublicReferralForm(ReferralForm):
    referrer_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=intake.MAX_NAME)])
    # A honeypot: hidden from people (CSS and aria-hidden), filled in by form-filling robots.
    # A filled one is answered like a success and nothing is stored.
    fax = StringField(_l("Leave this empty"), validators=[Length(max=200)])


class PipelineFilterForm(PageForm):
    """The staff list's filters, from the address bar (unknown values are ignored)."""

    status = SelectField(choices=[SelectChoice("", _l("Any status")), SelectChoice("open", _l("Open"))]
                         + [SelectChoice(s, label(s)) for s in STATUSES], validators=[Optional()], default="")
    referrer = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ROW_ID)])
    manager = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ROW_ID)])
    age = SelectField(choices=[SelectChoice("", _l("Any age")), SelectChoice("week", _l("Last 7 days")),
                               SelectChoice("month", _l("Last 30 days")),
                               SelectChoice("quarter", _l("Last 3 months")),
                               SelectChoice("older", _l("Older than 3 months"))],
                      validators=[Optional()], default="")


class StatusForm(Form):
    status = SelectField(_l("New status"), validators=[DataRequired()])
    note = TextAreaField(_l("Note (a reason is needed to reject)"), validators=[Length(max=pipeline.MAX_NOTE)])


class NoteForm(Form):
    note = TextAreaField(_l("Internal note"), validators=[DataRequired(), Length(max=pipeline.MAX_NOTE)])


class AssignForm(Form):
    manager_id = SelectField(_l("Account manager"), coerce=int, validators=[InputRequired()])


class ConvertForm(Form):
    """The new partner made from a referral (pre-filled), and whom to invite as its first user."""

    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=intake.MAX_NAME)])
    code = StringField(_l("Partner code"), validators=[DataRequired(), Length(min=2, max=40)])
    invite_email = EmailField(_l("Invite as the partner's administrator (optional)"),
                              validators=[Length(max=intake.MAX_EMAIL)])
    invite_name = StringField(_l("Their name"), validators=[Length(max=intake.MAX_NAME)])
