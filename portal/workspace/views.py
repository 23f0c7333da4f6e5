"""Account managers' follow-up tasks: open and done lists, adding one by hand, marking one done."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import SelectChoice

from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.web.confirm import Confirmation, ConfirmForm, confirm_page
from portal.web.errors import not_found
from portal.web.forms import form_status, show_service_error
from portal.web.guards import actor, staff_required
from portal.workspace import tasks
from portal.workspace.task_forms import NewTaskForm, TaskListForm

bp = Blueprint("tasks", __name__, url_prefix="/manage/tasks")


def _list_args() -> dict[str, str | int]:
    """The validated list arguments (show, page) to come back to; never raw input."""
    form = TaskListForm(request.args)
    valid = form.validate()
    show = form.show.data if valid and form.show.data in tasks.SHOWS else "open"
    page = (form.page.data or 1) if valid else 1
    args: dict[str, str | int] = {}
    if show != "open":
        args["show"] = show
    if page > 1:
        args["page"] = page
    return args


@bp.get("")
@login_required
@staff_required
def index():
    """Open (or done) tasks of the partners this staff member looks after (all for an admin)."""
    args = _list_args()
    page = tasks.list_tasks(get_session(), actor(), show=str(args.get("show", "open")),
                            page=int(args.get("page", 1)))
    return render_template("workspace/tasks.html", page=page,
                           done_confirmations={row.task.id: done_confirmation(row.task, args)
                                               for row in page.rows if row.task.status == "open"})


@bp.route("/new", methods=["GET", "POST"])
@login_required
@staff_required
def new():
    """Add a task by hand for one of the partners this staff member looks after."""
    db = get_session()
    me = actor()
    form = NewTaskForm()
    choices = tasks.partner_choices(db, me)
    form.partner_id.choices = [SelectChoice(0, _("Choose a partner"))] + [
        SelectChoice(pid, name) for pid, name in choices]
    if request.method == "GET":
        wanted = request.args.get("partner", type=int)
        if wanted in {pid for pid, _name in choices}:
            form.partner_id.data = wanted
    elif form.validate_on_submit():
        if not form.partner_id.data:
            form.partner_id.errors = [_("Choose the partner the task is for.")]
        else:
            try:
                task = tasks.add_task(db, me, partner_id=form.partner_id.data, title=form.title.data,
                                      due_on=form.due_on.data, note=form.note.data or "")
            except NotFound as err:
                not_found(foreign=err.foreign)
            except ServiceError as err:
                show_service_error(form, err)
            else:
                flash(_("Task added: %(title)s", title=task.title), "success")
                return redirect(url_for("tasks.index"))
    return render_template("workspace/task_form.html", form=form, has_partners=bool(choices)), form_status(form)


def done_confirmation(task, args: dict | None = None) -> Confirmation:
    """How marking a task done is asked: final (it cannot be reopened) but not harmful."""
    back = url_for("tasks.index", **(args or {}))
    return Confirmation(
        url=url_for("tasks.done", task_id=task.id, **(args or {})), label=_("Mark done"),
        title=_("Mark “%(title)s” done?", title=task.title),
        question=_("The task moves to the Done list with your name and the time, and cannot be "
                   "reopened."),
        confirm_label=_("Yes, it is done"), back_url=back, back_label=_("Keep it open"),
        danger=False,
    )


@bp.route("/<int:task_id>/done", methods=["GET", "POST"])
@login_required
@staff_required
def done(task_id: int):
    """Mark a task done once the staff member has confirmed it (GET: the confirmation page)."""
    db = get_session()
    try:
        task = tasks.get_task(db, actor(), task_id)  # the access check comes first, on GET too
    except NotFound as err:
        not_found(foreign=err.foreign)
    args = _list_args()
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        if task.status == "done":
            flash(_("This task is already done."), "info")
            return redirect(url_for("tasks.index", show="done"))
        return confirm_page(done_confirmation(task, args), form)
    try:
        task = tasks.complete_task(db, actor(), task_id)
    except ServiceError as err:
        flash(str(err), "error")
    else:
        flash(_("Done: %(title)s", title=task.title), "success")
    return redirect(url_for("tasks.index", **args))
