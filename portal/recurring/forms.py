"""The standing-order forms: the schedule (lines as `SKU quantity`, like quick order) and pausing."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from portal.recurring.models import LEAD_DAYS, REMINDER_DAYS
from portal.recurring.standing import MAX_NAME, MAX_NOTE
from portal.web.form_base import Form

CADENCE_CHOICES = [SelectChoice("weekly", _l("Every week")), SelectChoice("biweekly", _l("Every two weeks")),
                   SelectChoice("monthly", _l("Every month")), SelectChoice("quarterly", _l("Every quarter"))]
MODE_CHOICES = [SelectChoice("auto", _l("Place the order on the day")),
                SelectChoice("review", _l("Let me review a draft first (placed on the day if I do nothing)"))]


class ScheduleForm(Form):
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=MAX_NAME)])
    cadence = SelectField(_l("How often"), choices=CADENCE_CHOICES, default="monthly")
    start_date = DateField(_l("First date"), validators=[DataRequired()])
    end_date = DateField(_l("Last date (optional)"), validators=[Optional()])
    mode = SelectField(_l("On the day"), choices=MODE_CHOICES, default="auto")
    lines = TextAreaField(_l("Products: one line per product, SKU and quantity"),
                          validators=[DataRequired(), Length(max=20_000)])
    # Choices: the company's delivery addresses, "" first (the default address at the time).
    address_id = SelectField(_l("Deliver to"), choices=[], validate_choice=False, default="")
    po_pattern = StringField(_l("PO reference (optional)"), validators=[Optional(), Length(max=35)],
                             description=_l("The same for every order, or with placeholders: {date}, "
                                            "{year}, {month}, {day}, {week}, {name}. "
                                            "PO-{year}-{month} gives PO-2027-03."))
    note = TextAreaField(_l("Note for the wholesaler (optional)"), validators=[Length(max=MAX_NOTE)])

    def validate_address_id(self, field):
        if field.data not in ("", None) and not str(field.data).isdigit():
            raise ValidationError(_l("Choose one of your delivery addresses."))

    def validate_end_date(self, field):
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The last date is before the first one."))


class NewScheduleForm(ScheduleForm):
    # One key per form shown: a double click or a resubmitted page sets up one standing order.
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=100)])


class PauseForm(Form):
    until = DateField(_l("Resume on (optional)"), validators=[Optional()])


class DraftForm(Form):
    """The order of one date of a review-mode standing order (that date only)."""

    lines = TextAreaField(_l("Products for this date: one line per product, SKU and quantity"),
                          validators=[DataRequired(), Length(max=20_000)])
    # The draft's version the change is made from: saved only if the draft still has it.
    version = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,9}$")])


class SettingsForm(Form):
    review_lead_days = IntegerField(
        _l("Review drafts: days before each date"), validators=[InputRequired(), NumberRange(*LEAD_DAYS)],
        description=_l("A review-mode standing order shows its draft this many days before the date (0 to 14)."))
    reminder_days = IntegerField(
        _l("Reminders: days before each date"), validators=[InputRequired(), NumberRange(*REMINDER_DAYS)],
        description=_l("A reminder with links to skip or change goes out this many days before (1 to 14). "
                        "In review mode the notice that the draft is ready goes instead (unless drafts "
                        "appear 0 days before)."))
def _optional_id(value):
    return int(value) if value not in (None, "") else None


class RunFilterForm(Form):
    """The staff page of runs: occurrence dates, a partner (the view sets the choices), an outcome."""

    class Meta:
        csrf = False  # a GET filter form changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    partner = SelectField(_l("Partner"), choices=[], coerce=_optional_id, validators=[Optional()])
    outcome = SelectField(_l("What happened"), choices=[], validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
