"""The one way to ask before what cannot be undone.

An action that cannot be undone (cancel an order, deactivate a user, stop selling a product,
withdraw an invitation, mark a task done, ...) is a URL that answers GET with a confirmation
page and POST with the action. The page works without JavaScript; where JavaScript runs, the
button opens the same form in a ``<dialog>`` instead (``static/app.js``), so one click never
does it. The button and the page are built from one :class:`Confirmation`, so they say the same.

In a view::

    @bp.route("/orders/<int:order_id>/cancel", methods=["GET", "POST"])
    def cancel(order_id):
        order = ...                                  # the access check comes first, on GET too
        form = ConfirmForm()
        if request.method == "GET" or not form.validate_on_submit():
            return confirm_page(cancel_confirmation(order), form)
        ...                                          # do it, flash, redirect

and in the page that offers it: ``{{ confirm_button(confirmation, action_form) }}``.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from portal.web.form_base import Form

MAX_REASON = 500


class ConfirmForm(Form):
    """The confirmation's form: the CSRF token and, where asked, an optional reason."""

    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=MAX_REASON)])

    @property
    def reason_text(self) -> str:
        return (self.reason.data or "").strip()


@dataclass(frozen=True)
class Confirmation:
    url: str            # where the action is POSTed (and the confirmation page is GOT)
    label: str          # the button on the page that offers it: "Cancel order"
    title: str          # "Cancel order #12?"
    question: str       # what happens, in a sentence: "The order will not be delivered..."
    confirm_label: str  # the button that does it: "Yes, cancel the order"
    back_url: str       # where "No" leads on the confirmation page
    back_label: str = ""  # "Keep the order"; default "Go back"
    reason: bool = False  # offer an optional reason (kept in the audit trail)
    danger: bool = True   # red; False for an action that is final but not harmful (task done)

    @property
    def dialog_id(self) -> str:
        return "confirm-" + "".join(c if c.isalnum() else "-" for c in self.url).strip("-")


def confirm_page(confirmation: Confirmation, form: ConfirmForm | None = None):
    """The confirmation page (422 when the posted form had errors, e.g. a reason too long)."""
    form = form or ConfirmForm()
    status = 422 if form.errors else 200
    return render_template("web/confirm.html", c=confirmation, form=form), status
