"""The catalog at a partner's prices (their own for partner users; any of theirs, read-only, for
staff), and adding to the cart."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.catalog import browse as catalog
from portal.core.access import PARTNER_ROLES, STAFF_ROLES
from portal.core.errors import ServiceError
from portal.db import get_session
from portal.ordering import cart, queries, staff
from portal.ordering.forms import AddToCartForm
from portal.ordering.staff_views import chosen_partner
from portal.ordering.views import partner_filter
from portal.web.formatting import number
from portal.web.forms import list_filters
from portal.web.guards import actor, partner_required, roles_required, safe_next_url

bp = Blueprint("catalog", __name__)


@bp.get("/catalog")
@login_required
@roles_required(*PARTNER_ROLES, *STAFF_ROLES)
def index():
    """Browse and search the catalog; the usual basket comes first.

    Partner users see their own prices and add to their cart. Staff browse read-only, at the
    prices of a partner they look after (``?partner=``; list prices without one), e.g. while
    that partner phones in an order.
    """
    db = get_session()
    me = actor()
    args = list_filters(request.args)
    partner, choices = me.partner, []
    if me.is_staff:
        partner = chosen_partner(partner_filter())
        choices = staff.visible_partners(db, me)
    page = catalog.browse(db, partner, q=args["q"], category=args["category"], page=args["page"])
    usual = (queries.usual_basket(db, partner) if partner is not None and page.page == 1 and not args["q"]
             else [])
    return render_template("ordering/catalog.html", page=page, usual=usual, form=AddToCartForm(),
                           q=args["q"], category=args["category"], staff=me.is_staff,
                           partner=partner, partners=choices)


@bp.post("/cart/add")
@login_required
@partner_required
def add():
    """Add a product to the cart, then go back where the user was."""
    form = AddToCartForm()
    back = safe_next_url(request.args.get("next")) or url_for("catalog.index")
    if not form.validate_on_submit():
        if form.product_id.errors:
            flash(_("This product cannot be ordered."), "error")
        else:
            flash(_("Quantity must be a whole number from 1 to %(max)d.", max=cart.MAX_QUANTITY),
                  "error")
        return redirect(back)
    try:
        product, rounded = cart.add(get_session(), actor(), form.product_id.data, form.quantity.data)
    except ServiceError as err:
        flash(str(err), "error")
    else:
        added = rounded.quantity if rounded else form.quantity.data
        flash(_("Added %(quantity)s × %(name)s to your cart.", quantity=number(added),
                name=product.name), "success")
        if rounded:  # the pack rule: whole packs, rounded up
            flash(rounded.note(), "info")
    return redirect(back)
