"""Forms shared by several areas."""
from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for POST-only buttons (logout, deactivate)."""
