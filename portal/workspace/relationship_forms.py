"""The relationship forms: the portfolio's filters (GET), the ladder stage, an interaction, and
the partner's NPS answer."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.accounts.models import STAGES
from portal.core.text import MAX_QUERY
from portal.web.form_base import Form
from portal.web.forms import PageForm
from portal.workspace import feedback, interactions, ladder
from portal.workspace.portfolio_table import DIRECTIONS, SORTS, TRUSTS
from portal.workspace.relationship_models import INTERACTION_KINDS
from portal.workspace.rhythm import RISKS

STAGE_LABELS = dict(zip(STAGES, (_l("Prospect"), _l("Customer"), _l("Client"), _l("Supporter"), _l("Advocate"),
                                 _l("Partner")), strict=True))
RISK_LABELS = dict(zip(RISKS, (_l("Low"), _l("Medium"), _l("High")), strict=True))
TRUST_LABELS = dict(zip(TRUSTS, (_l("Better than repeating last year"), _l("No better than repeating last year"),
                                 _l("Not enough history to judge")), strict=True))
KIND_LABELS = dict(zip(INTERACTION_KINDS, (_l("Call"), _l("Visit"), _l("Email"), _l("Note")), strict=True))


class PortfolioFilterForm(PageForm):
    """The portfolio's filters and sort from the address bar; an invalid value is ignored (and
    said so on the page), never a 500."""

    q = SearchField(_l("Search partners"), validators=[Optional(), Length(max=MAX_QUERY)])
    stage = SelectField(_l("Stage"), choices=[SelectChoice("", _l("Any stage"))]
                        + [SelectChoice(s, STAGE_LABELS[s]) for s in STAGES], validators=[Optional()])
    risk = SelectField(_l("Churn risk"), choices=[SelectChoice("", _l("Any risk"))]
                       + [SelectChoice(r, RISK_LABELS[r]) for r in RISKS], validators=[Optional()])
    trust = SelectField(_l("Forecast trust"), choices=[SelectChoice("", _l("Any forecast trust"))]
                        + [SelectChoice(t, TRUST_LABELS[t]) for t in TRUSTS], validators=[Optional()])
    overdue = BooleanField(_l("Overdue only"))
    manager = IntegerField(_l("Account manager"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    sort = SelectField(choices=[SelectChoice(s) for s in SORTS], validators=[Optional()], default="risk")
    dir = SelectField(choices=[SelectChoice(d) for d in DIRECTIONS], validators=[Optional()], default="desc")


class StageForm(Form):
    """Confirm the suggested stage or set another (a note is needed for another)."""

    stage = SelectField(_l("Stage"), choices=[SelectChoice(s, STAGE_LABELS[s]) for s in STAGES],
                        validators=[InputRequired()])
    note = TextAreaField(_l("Note (needed when you do not follow the suggestion)"),
                         validators=[Optional(), Length(max=ladder.MAX_NOTE)])


class InteractionForm(Form):
    """A call, visit, email or note with the partner."""

    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in INTERACTION_KINDS],
                       validators=[InputRequired()])
    happened_on = DateField(_l("Date"), validators=[InputRequired()])
    summary = TextAreaField(_l("What was discussed"),
                            validators=[DataRequired(), Length(max=interactions.MAX_SUMMARY)])


class FeedbackForm(Form):
    """The NPS question: 0-10 and an optional comment."""

    score = RadioField(_l("How likely are you to recommend us to another shop? (0 = not at all, 10 = certainly)"),
                       choices=[SelectChoice(n, str(n)) for n in range(11)], coerce=int, validators=[InputRequired()])
    comment = TextAreaField(_l("What is the main reason for your score? (optional)"),
                            validators=[Optional(), Length(max=feedback.MAX_COMMENT)])
