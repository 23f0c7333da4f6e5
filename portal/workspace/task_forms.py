"""The tasks page's forms: which list to show (GET) and a task added by hand (POST)."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.web.form_base import Form
from portal.web.forms import PageForm
from portal.workspace.tasks import MAX_NOTE, MAX_TITLE, SHOWS


class TaskListForm(PageForm):
    """Open or done tasks, and the page, from the address bar."""

    show = SelectField(choices=[SelectChoice(s) for s in SHOWS], validators=[Optional()], default="open")


class NewTaskForm(Form):
    """A task a manager adds by hand; the partner's choices are the ones they look after."""

    title = StringField(_l("What is to be done"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    partner_id = SelectField(_l("Partner"), coerce=int, validators=[InputRequired()])
    due_on = DateField(_l("Due date"), validators=[Optional()])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=MAX_NOTE)])
