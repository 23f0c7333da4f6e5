"""Tasks: what caused each and whom to call, added by hand, done after a confirmation and kept
with who and when, and only ever of the manager's own partners."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Notification, Task
from portal.workspace import tasks as task_cases
from tests.portal.helpers import sign_in


def client_for(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


@pytest.fixture
def desk(f, db):
    """A manager with a partner (its owner is the contact), and another manager's partner."""
    manager = f.user(role="account_manager", name="Mia Manager")
    mine = f.partner(name="Mine Grocers", account_manager_id=manager.id, preferred_channel="phone")
    f.user(partner=mine, name="Bob Buyer", email="bob@mine.test")
    f.user(role="partner_admin", partner=mine, name="Olga Owner", email="olga@mine.test")
    other = f.user(role="account_manager")
    theirs = f.partner(name="Theirs Deli", account_manager_id=other.id)
    return manager, mine, theirs


def test_a_task_shows_whom_to_contact_and_links_to_the_order_and_notification_behind_it(app, f, db, desk):
    manager, mine, _theirs = desk
    order = f.order(mine)
    notification = Notification(partner_id=mine.id, kind="thank_you_first_order", subject_key="k", status="task",
                                payload={"order_id": order.id, "partner_name": mine.name})
    db.add(notification)
    db.flush()
    db.add(Task(partner_id=mine.id, assignee_id=manager.id, notification_id=notification.id, kind="phone",
                title="Thank Mine Grocers", due_on=date.today()))
    db.commit()
    page = client_for(app, manager).get("/manage/tasks").text
    row = page.split("Thank Mine Grocers", 1)[1].split("</tr>", 1)[0]
    assert "Olga Owner" in row and 'href="mailto:olga@mine.test"' in row  # the admin, not the buyer
    assert f'href="/manage/partners/{mine.id}"' in row
    assert f'href="/manage/orders/{order.id}"' in row and f"notification no. {notification.id}" in row
    assert "The partner prefers a phone call" in row


def test_contacts_come_in_one_query_for_the_whole_page(app, f, db):
    partners = [f.partner() for _ in range(3)]
    for partner in partners:
        f.user(partner=partner)
    owner = f.user(role="partner_admin", partner=partners[0], name="Owner Zero")
    found = task_cases.contacts(db, [p.id for p in partners] + [partners[0].id])
    assert set(found) == {p.id for p in partners} and found[partners[0].id].email == owner.email


def test_a_manager_adds_a_task_by_hand_for_one_of_their_partners(app, db, desk):
    manager, mine, theirs = desk
    client = client_for(app, manager)
    form = client.get(f"/manage/tasks/new?partner={mine.id}").text
    assert "Mine Grocers" in form and "Theirs Deli" not in form
    assert f'<option selected value="{mine.id}">' in form or f'value="{mine.id}" selected' in form
    due = date.today() + timedelta(days=3)
    response = client.post("/manage/tasks/new", data={
        "title": "  Call about the spring catalogue ", "partner_id": mine.id, "due_on": due.isoformat(),
        "note": "Ask for Olga."})
    assert response.status_code == 302 and response.headers["Location"] == "/manage/tasks"
    task = db.scalar(select(Task))
    assert (task.title, task.partner_id, task.due_on, task.note, task.kind, task.status) == (
        "Call about the spring catalogue", mine.id, due, "Ask for Olga.", "manual", "open")
    assert task.created_by_id == manager.id and task.assignee_id == manager.id
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "task_added"))
    assert (event.actor_id, event.target_id, event.partner_id) == (manager.id, task.id, mine.id)
    listed = client.get("/manage/tasks").text
    assert "Call about the spring catalogue" in listed and "Added by Mia Manager" in listed
    assert "Ask for Olga." in listed


@pytest.mark.parametrize(("data", "message"), [
    ({"title": "", "partner_id": "{mine}"}, "This field is required."),
    ({"title": "x" * 301, "partner_id": "{mine}"}, "Field cannot be longer than 300 characters."),
    ({"title": "Call", "partner_id": "{theirs}"}, "Not a valid choice."),
    ({"title": "Call", "partner_id": "0"}, "Choose the partner the task is for."),
    ({"title": "Call", "partner_id": "abc"}, "Invalid Choice: could not coerce."),
    ({"title": "Call", "partner_id": "{mine}", "due_on": "31.02.2026"}, "Not a valid date value."),
    ({"title": "Call", "partner_id": "{mine}", "due_on": "2020-01-01"}, "The due date is in the past."),
    ({"title": "Call", "partner_id": "{mine}", "note": "n" * 2001}, "Field cannot be longer than 2000 characters."),
])
def test_a_bad_task_is_refused_with_422_and_the_reason(app, db, desk, data, message):
    manager, mine, theirs = desk
    data = {k: v.format(mine=mine.id, theirs=theirs.id) for k, v in data.items()}
    response = client_for(app, manager).post("/manage/tasks/new", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert db.scalar(select(func.count(Task.id))) == 0


def test_a_manager_with_no_partners_is_told_why_there_is_no_form(app, f):
    page = client_for(app, f.user(role="account_manager")).get("/manage/tasks/new").text
    assert "You look after no partner yet" in page and 'name="title"' not in page


def test_marking_done_asks_first_then_keeps_who_and_when_in_the_done_list(app, db, desk):
    manager, mine, _theirs = desk
    task = Task(partner_id=mine.id, assignee_id=manager.id, kind="visit", title="Visit Mine", due_on=date.today())
    db.add(task)
    db.commit()
    client = client_for(app, manager)
    listed = client.get("/manage/tasks").text
    assert f'href="/manage/tasks/{task.id}/done"' in listed and 'aria-label="Mark done: Visit Mine"' in listed
    asked = client.get(f"/manage/tasks/{task.id}/done")
    assert asked.status_code == 200 and "Mark “Visit Mine” done?" in asked.text
    assert "Yes, it is done" in asked.text and 'class="danger"' not in asked.text  # final, not harmful
    assert "Keep it open" in asked.text
    db.expire_all()
    assert db.get(Task, task.id).status == "open"  # asking changed nothing
    before = datetime.now(UTC)
    done = client.post(f"/manage/tasks/{task.id}/done")
    assert done.status_code == 302 and done.headers["Location"] == "/manage/tasks"
    db.expire_all()
    kept = db.get(Task, task.id)
    assert kept.status == "done" and kept.done_by_id == manager.id
    assert kept.done_at.replace(tzinfo=UTC) >= before.replace(microsecond=0)
    after = client.get("/manage/tasks").text
    assert "Done: Visit Mine" in after and "Visit Mine" not in after.split("</nav>")[-1]
    done_list = client.get("/manage/tasks?show=done").text
    row = done_list.split("Visit Mine", 1)[0].rsplit("<tr>", 1)[1]
    assert "by Mia Manager" in row
    again = client.get(f"/manage/tasks/{task.id}/done")
    assert again.status_code == 302 and "show=done" in again.headers["Location"]
    client.post(f"/manage/tasks/{task.id}/done")
    assert db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "task_done")) == 1


def test_the_done_list_pages_newest_first(app, db, desk):
    manager, mine, _theirs = desk
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    db.add_all([Task(partner_id=mine.id, kind="phone", title=f"Done {n:02d}", status="done",
                     done_at=start + timedelta(hours=n), done_by_id=manager.id)
                for n in range(task_cases.PAGE_SIZE + 3)])
    db.commit()
    client = client_for(app, manager)
    first = client.get("/manage/tasks?show=done").text
    assert f"{task_cases.PAGE_SIZE + 3} tasks done" in first
    assert f"Done {task_cases.PAGE_SIZE + 2:02d}" in first and "Done 00" not in first
    assert 'href="/manage/tasks?page=2&amp;show=done"' in first or 'href="/manage/tasks?show=done&amp;page=2"' in first
    second = client.get("/manage/tasks?show=done&page=2").text
    assert "Done 00" in second and f"Done {task_cases.PAGE_SIZE + 2:02d}" not in second


def test_empty_lists_say_what_to_do_next(app, desk):
    manager, _mine, _theirs = desk
    client = client_for(app, manager)
    assert 'href="/manage/tasks/new">add a task.</a>' in client.get("/manage/tasks").text
    assert "No task is done yet" in client.get("/manage/tasks?show=done").text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_another_managers_task_is_not_found_and_stays_open(app, db, desk, method):
    manager, _mine, theirs = desk
    task = Task(partner_id=theirs.id, assignee_id=theirs.account_manager_id, kind="phone", title="Theirs")
    db.add(task)
    db.commit()
    client = client_for(app, manager)
    assert client.open(f"/manage/tasks/{task.id}/done", method=method).status_code == 404
    assert client.open(f"/manage/tasks/{task.id + 100}/done", method=method).status_code == 404
    db.expire_all()
    assert db.get(Task, task.id).status == "open"
    assert "Theirs" not in client.get("/manage/tasks?show=done").text


def test_a_task_for_a_partner_one_does_not_look_after_cannot_be_added_through_the_use_case(app, db, desk):
    from portal.core.access import Actor
    from portal.core.errors import NotFound

    manager, _mine, theirs = desk
    with app.test_request_context(), pytest.raises(NotFound) as refused:
        task_cases.add_task(db, Actor.of(manager), partner_id=theirs.id, title="Sneak", due_on=None)
    assert refused.value.foreign


def test_admin_adds_for_any_partner_and_partner_users_cannot_reach_tasks(app, f, db, desk):
    _manager, _mine, theirs = desk
    admin = f.user(role="admin")
    client = client_for(app, admin)
    assert "Theirs Deli" in client.get("/manage/tasks/new").text
    assert client.post("/manage/tasks/new", data={"title": "Check", "partner_id": theirs.id}).status_code == 302
    task = db.scalar(select(Task))
    assert task.assignee_id == theirs.account_manager_id and task.created_by_id == admin.id
    for role in ("buyer", "partner_admin"):
        other = client_for(app, f.user(role=role))
        assert other.get("/manage/tasks/new").status_code == 403
        assert other.get(f"/manage/tasks/{task.id}/done").status_code == 403
