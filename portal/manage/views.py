"""The account manager's (and admin's) view of partners."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.db import get_session
from portal.models import Order, Partner, User
from portal.security import get_visible_partner_or_404, scope_partners, staff_required

bp = Blueprint("manage", __name__, url_prefix="/manage")
PAGE_SIZE = 50


@bp.get("/partners")
@login_required
@staff_required
def partners():
    """The partners this staff member looks after (all of them for an admin)."""
    db = get_session()
    page = max(request.args.get("page", 1, type=int), 1)
    query = request.args.get("q", "").strip()
    stmt = scope_partners(select(Partner), current_user)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(func.lower(Partner.name).like(like) | func.lower(Partner.code).like(like))
    total = db.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.scalars(
        stmt.order_by(Partner.name).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template("manage/partners.html", partners=rows, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), q=query)


@bp.get("/partners/<int:partner_id>")
@login_required
@staff_required
def partner(partner_id: int):
    """One partner: its people and order totals."""
    db = get_session()
    partner = get_visible_partner_or_404(db, current_user, partner_id)
    users = db.scalars(select(User).where(User.partner_id == partner.id).order_by(User.email)).all()
    count, total = db.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.partner_id == partner.id, Order.status != "cancelled")
    ).one()
    return render_template("manage/partner.html", partner=partner, users=users,
                           order_count=count, order_total=total)
