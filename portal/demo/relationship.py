"""Demo relationship data that matches each partner's behaviour: NPS answers over the last four
quarters (scores leaning on the partner's churn risk; detractors with their follow-up tasks, the
older ones done), a log of calls, visits, emails and notes by the preferred channel, and ladder
stages confirmed by the manager from the portal's suggestion (a few left behind it, so the
portfolio shows suggestions to confirm), with their history.

Its own random stream, so adding this leaves the order history of a seed unchanged.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import PARTNER_ROLES, STAGES, Partner, User
from portal.notifications.models import Task
from portal.workspace import feedback as nps
from portal.workspace import kpis
from portal.workspace.relationship_models import Feedback, Interaction, StageChange

COMMENTS = {
    "promoter": ["Deliveries always on time, and the new frozen range sells well.",
                 "Our account manager knows our shop; ordering takes five minutes.", "", "",
                 "Good prices on the summer drinks.", "Reliable, friendly, fast."],
    "passive": ["Fine overall; the catalog could show pack sizes more clearly.", "",
                "Good service, but the minimum for free delivery is high.", "OK."],
    "detractor": ["Two late deliveries this month, one before a weekend.",
                  "Prices went up again and nobody told us.", "The bakery items arrived damaged.",
                  "Hard to reach anybody by phone.", "Missing items in the last order."],
}
INTERACTIONS = {
    "call": ["Called about the Christmas assortment; they want the list by October.",
             "Quick call: next order will be larger for the town festival.",
             "Called after the late delivery; explained and offered a credit note."],
    "visit": ["Visited the shop: drinks shelf reorganised, asked for more chilled space.",
              "Visit with the new price list; owner interested in the Gold tier."],
    "email": ["Sent the new catalog and the summer promotion.",
              "Emailed the delivery schedule for the holidays."],
    "note": ["Owner's son takes over ordering from next month.",
             "They compare our prices with a cash-and-carry nearby."],
}
KINDS_BY_CHANNEL = {"phone": ["call", "call", "note", "email"], "visit": ["visit", "visit", "call", "note"],
                    "email": ["email", "email", "call", "note"], "none": ["note"]}
SCORES_BY_RISK = {"low": [5, 7, 8, 8, 9, 9, 10, 10], "medium": [3, 4, 6, 7, 8, 9], "high": [1, 2, 3, 5, 6, 7]}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _quarters(today: date, n: int = 4) -> list[date]:
    """The first days of this quarter and the n - 1 before it."""
    start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    found = [start]
    for _ in range(n - 1):
        start = date(start.year - 1, 10, 1) if start.month == 1 else date(start.year, start.month - 3, 1)
        found.append(start)
    return found


def add(session: Session, *, seed: int, today: date) -> int:
    """Add the demo's feedback, interactions and stage history (helper, no commit); the answers."""
    rng = random.Random(seed * 104729 + 3)
    now = _at(today, 9)
    partners = session.scalars(select(Partner).order_by(Partner.id)).all()
    people: dict[int, list[int]] = {}
    for pid, uid in session.execute(select(User.partner_id, User.id)
                                    .where(User.role.in_(PARTNER_ROLES)).order_by(User.id)):
        people.setdefault(pid, []).append(uid)
    before = kpis.compute(session, [p.id for p in partners], now=now)
    answers = 0
    for partner in partners:
        k = before[partner.id]
        manager = partner.account_manager_id
        if k.order_count == 0 or partner.status == "churned":
            continue
        risk = k.churn_risk or "low"
        for start in _quarters(today):
            end = min(today - timedelta(days=1), nps.next_quarter_starts(start) - timedelta(days=1))
            if end < start:
                continue
            for uid in people.get(partner.id, []):
                if rng.random() > 0.55:
                    continue
                score = rng.choice(SCORES_BY_RISK[risk])
                kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                when = _at(start + timedelta(days=rng.randint(0, (end - start).days)), rng.randint(8, 18))
                answer = Feedback(partner_id=partner.id, user_id=uid, quarter=nps.quarter_of(when.date()),
                                  score=score, comment=rng.choice(COMMENTS[kind]), created_at=when)
                if score <= nps.FOLLOW_UP_AT:
                    done_at = when + timedelta(days=rng.randint(1, 9), hours=2)
                    done = done_at < now and (start != _quarters(today)[0] or rng.random() < 0.4)
                    task = Task(partner_id=partner.id, assignee_id=manager, kind="feedback",
                                title=f"Follow up on feedback: {score} of 10 from {partner.name}",
                                note=answer.comment, due_on=when.date() + timedelta(days=nps.FOLLOW_UP_DAYS),
                                status="done" if done else "open", created_at=when,
                                done_at=done_at if done else None, done_by_id=manager if done else None)
                    session.add(task)
                    session.flush()
                    answer.task_id = task.id
                session.add(answer)
                answers += 1
        kinds = KINDS_BY_CHANNEL[partner.preferred_channel]
        for _ in range(rng.randint(1, 6) if partner.status == "active" else 1):
            kind = rng.choice(kinds)
            day = today - timedelta(days=rng.randint(1, 180))
            session.add(Interaction(partner_id=partner.id, author_id=manager, kind=kind, happened_on=day,
                                    summary=rng.choice(INTERACTIONS[kind]), created_at=_at(day, 15)))
    session.flush()
    after = kpis.compute(session, [p.id for p in partners], now=now)
    for partner in partners:
        suggested = after[partner.id].suggested_stage
        # Most managers have confirmed the suggestion, climbing one step at a time; some are
        # a step behind it (the portfolio then shows the suggestion to confirm).
        target = STAGES.index(suggested) - (1 if rng.random() < 0.2 and suggested != "prospect" else 0)
        stage, day = "prospect", today - timedelta(days=rng.randint(200, 700))
        for step in range(1, target + 1):
            if STAGES[step] == "advocate" and suggested != "advocate":
                continue  # nobody referred anyone yet (issue 14)
            day = min(today - timedelta(days=1), day + timedelta(days=rng.randint(20, 120)))
            session.add(StageChange(partner_id=partner.id, changed_by_id=partner.account_manager_id,
                                    from_stage=stage, to_stage=STAGES[step], suggested_stage=STAGES[step],
                                    note="", created_at=_at(day, 11)))
            stage = STAGES[step]
        partner.stage = stage
    return answers
