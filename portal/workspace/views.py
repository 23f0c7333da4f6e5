"""Account managers' follow-up tasks (phone calls and visits from the notification outbox)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.notifications import outbox as notifications
from portal.web.forms import ActionForm
from portal.web.guards import acting_user, staff_required

bp = Blueprint("tasks", __name__, url_prefix="/manage/tasks")


@bp.get("")
@login_required
@staff_required
def index():
    """Open tasks of the partners this staff member looks after (all of them for an admin)."""
    page = notifications.open_tasks(get_session(), acting_user(),
                                    page=request.args.get("page", 1, type=int))
    return render_template("tasks/index.html", page=page, action_form=ActionForm())


@bp.post("/<int:task_id>/done")
@login_required
@staff_required
def done(task_id: int):
    """Mark a task done."""
    if ActionForm().validate_on_submit():
        try:
            task = notifications.complete_task(get_session(), acting_user(), task_id)
        except NotFound:
            abort(404)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(_("Done: %(title)s", title=task.title), "success")
    return redirect(url_for("tasks.index", page=request.args.get("page", type=int)))
