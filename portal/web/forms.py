"""Forms shared by several areas."""
from flask import flash
from flask_wtf import FlaskForm

from portal.core.errors import ServiceError


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for POST-only buttons (logout, deactivate)."""


def show_service_error(form: FlaskForm, err: ServiceError) -> None:
    """Show a service's message under the form field it names, else as a flash above the form."""
    field = form._fields.get(err.field) if err.field else None
    if field is None:
        flash(str(err), "error")
    else:
        field.errors.append(str(err))
