"""Account managers' follow-up tasks (phone calls and visits from the notification outbox)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.web.errors import not_found
from portal.web.forms import ActionForm, page_from
from portal.web.guards import actor, staff_required
from portal.workspace import tasks

bp = Blueprint("tasks", __name__, url_prefix="/manage/tasks")


@bp.get("")
@login_required
@staff_required
def index():
    """Open tasks of the partners this staff member looks after (all of them for an admin)."""
    page = tasks.open_tasks(get_session(), actor(), page=page_from(request.args))
    return render_template("workspace/tasks.html", page=page, action_form=ActionForm())


@bp.post("/<int:task_id>/done")
@login_required
@staff_required
def done(task_id: int):
    """Mark a task done."""
    if ActionForm().validate_on_submit():
        try:
            task = tasks.complete_task(get_session(), actor(), task_id)
        except NotFound as err:
            not_found(foreign=err.foreign)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(_("Done: %(title)s", title=task.title), "success")
    page = page_from(request.args)
    return redirect(url_for("tasks.index", page=page if page > 1 else None))
