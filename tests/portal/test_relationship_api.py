"""The staff partners API (manager-scoped) and POST /api/v1/feedback for partner users."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from portal.models import Feedback, Task
from portal.workspace.kpis import at_noon
from tests.portal.helpers import bearer, issue


def _world(f):
    manager = f.user(role="account_manager")
    product = f.product()
    mine = f.partner(name="Mine", account_manager_id=manager.id)
    today = datetime.now(UTC).date()
    for i in range(5):
        f.order(mine, lines=[(product, 3)], status="delivered", created_at=at_noon(today - timedelta(days=30 * i + 2)))
    theirs = f.partner(name="Theirs", account_manager_id=f.user(role="account_manager").id)
    f.order(theirs, lines=[(product, 1)], status="delivered")
    return manager, mine, theirs


def test_partners_list_and_detail_are_manager_scoped(app, client, f):
    manager, mine, theirs = _world(f)
    headers = bearer(issue(client, manager))
    listed = client.get("/api/v1/partners", headers=headers)
    assert listed.status_code == 200
    assert [p["code"] for p in listed.json["items"]] == [mine.code] and listed.json["total"] == 1
    item = listed.json["items"][0]
    assert item["kpis"]["order_count"] == 5 and item["kpis"]["usual_gap_days"] == 30
    assert item["suggested_stage"] == "client" and item["kpis"]["referrals_made"] == 0
    one = client.get(f"/api/v1/partners/{mine.id}", headers=headers)
    assert one.status_code == 200 and one.json == item
    assert client.get(f"/api/v1/partners/{theirs.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/partners/{theirs.id}", headers=headers).json == \
        client.get(f"/api/v1/partners/{theirs.id + 1000}", headers=headers).json
    assert client.get(f"/api/v1/partners?manager={theirs.account_manager_id}", headers=headers).json["total"] == 1


def test_an_admin_sees_all_and_filters_by_manager(client, f):
    manager, mine, theirs = _world(f)
    headers = bearer(issue(client, f.user(role="admin")))
    assert client.get("/api/v1/partners", headers=headers).json["total"] == 2
    only = client.get(f"/api/v1/partners?manager={manager.id}&sort=partner&dir=asc", headers=headers).json
    assert [p["id"] for p in only["items"]] == [mine.id]


def test_bad_queries_are_422_and_partner_users_get_403(client, f):
    manager, mine, theirs = _world(f)
    headers = bearer(issue(client, manager))
    for query in ("sort=evil", "dir=up", "stage=king", "risk=9", "page=0", "manager=x"):
        response = client.get(f"/api/v1/partners?{query}", headers=headers)
        assert response.status_code == 422, query
    buyer = f.user(partner=mine)
    partner_headers = bearer(issue(client, buyer))
    assert client.get("/api/v1/partners", headers=partner_headers).status_code == 403
    assert client.get(f"/api/v1/partners/{mine.id}", headers=partner_headers).status_code == 403
    assert client.get("/api/v1/partners").status_code == 401


def test_feedback_api_once_a_quarter_with_a_follow_up(client, db, f):
    manager, mine, theirs = _world(f)
    buyer = f.user(partner=mine)
    headers = bearer(issue(client, buyer))
    for bad in ({"score": 11}, {"score": -1}, {"score": "7"}, {}, {"score": 5, "extra": 1}, {"score": True}):
        assert client.post("/api/v1/feedback", json=bad, headers=headers).status_code == 422, bad
    given = client.post("/api/v1/feedback", json={"score": 4, "comment": "Slow"}, headers=headers)
    assert given.status_code == 201 and given.json["follow_up"] is True and given.json["score"] == 4
    again = client.post("/api/v1/feedback", json={"score": 10}, headers=headers)
    assert again.status_code == 409 and "quarter" in again.json["error"]["message"]
    assert db.scalar(select(func.count(Feedback.id))) == 1
    task = db.scalar(select(Task).where(Task.kind == "feedback"))
    assert task.partner_id == mine.id and task.assignee_id == manager.id
    staff = bearer(issue(client, manager))
    assert client.post("/api/v1/feedback", json={"score": 9}, headers=staff).status_code == 403


def test_feedback_before_any_delivered_order_is_refused(client, f):
    newcomer = f.user()
    response = client.post("/api/v1/feedback", json={"score": 8}, headers=bearer(issue(client, newcomer)))
    assert response.status_code == 422 and "delivered" in response.json["error"]["message"]
