"""Delivery address pages: a partner admin's (/company/addresses) and staff's for one partner
(/manage/partners/<id>/addresses). Both call the same use cases (accounts.addresses), which
check who may change which partner's addresses."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import addresses
from portal.accounts.forms import AddressForm
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.web.confirm import Confirmation, ConfirmForm, confirm_page
from portal.web.errors import not_found
from portal.web.forms import ActionForm, form_status, show_service_error
from portal.web.guards import actor, roles_required, staff_required

bp = Blueprint("addresses", __name__)
partner_admin_required = roles_required("partner_admin")


@dataclass(frozen=True)
class Scope:
    """Whose addresses a page shows: the signed-in partner admin's company, or a partner staff
    look after (``staff``); the endpoints and the breadcrumbs follow."""

    partner_id: int
    partner_name: str
    staff: bool

    def url(self, action: str, **values) -> str:
        if self.staff:
            return url_for(f"addresses.staff_{action}", partner_id=self.partner_id, **values)
        return url_for(f"addresses.company_{action}", **values)


def _company() -> Scope:
    return Scope(current_user.partner_id, current_user.partner.name, staff=False)


def _staff(partner_id: int) -> Scope:
    try:
        partner = addresses.partner_for_staff(get_session(), actor(), partner_id)
    except NotFound as err:
        not_found(foreign=err.foreign)
    return Scope(partner.id, partner.name, staff=True)


def _address(scope: Scope, address_id: int):
    try:
        return addresses.get(get_session(), actor(), address_id, partner_id=scope.partner_id)
    except NotFound as err:
        not_found(foreign=err.foreign)


def _data(form: AddressForm) -> addresses.AddressData:
    return addresses.AddressData(
        label=form.label.data or "", recipient=form.recipient.data or "", street=form.street.data or "",
        street2=form.street2.data or "", postal_code=form.postal_code.data or "",
        city=form.city.data or "", country=form.country.data or "", phone=form.phone.data or "")


def remove_confirmation(scope: Scope, address) -> Confirmation:
    return Confirmation(
        url=scope.url("remove", address_id=address.id), label=_("Remove"),
        title=_("Remove the address “%(label)s”?", label=address.label),
        question=_("It can no longer be chosen at checkout. Orders already placed keep their copy "
                   "of it."),
        confirm_label=_("Yes, remove the address"), back_url=scope.url("list"),
        back_label=_("Keep the address"),
    )


def _list(scope: Scope):
    found = addresses.list_for(get_session(), actor(), scope.partner_id)
    return render_template("accounts/addresses.html", scope=scope, addresses=found,
                           action_form=ActionForm(),
                           confirmations={a.id: remove_confirmation(scope, a) for a in found})


def _form(scope: Scope, address=None):
    form = AddressForm(obj=address) if request.method == "GET" and address else AddressForm()
    if address is not None and request.method == "GET":
        form.make_default.data = address.is_default
    refused = False
    if form.validate_on_submit():
        db = get_session()
        try:
            if address is None:
                made = addresses.create(db, actor(), scope.partner_id, _data(form),
                                        make_default=form.make_default.data)
                flash(_("The address “%(label)s” is added.", label=made.label), "success")
            else:
                made = addresses.edit(db, actor(), address.id, _data(form), partner_id=scope.partner_id)
                if form.make_default.data and not made.is_default:
                    addresses.set_default(db, actor(), made.id, partner_id=scope.partner_id)
                flash(_("The address “%(label)s” is saved.", label=made.label), "success")
        except ServiceError as err:
            refused = True
            show_service_error(form, err)
        else:
            return redirect(scope.url("list"))
    return render_template("accounts/addresses_form.html", scope=scope, form=form,
                           address=address), 422 if refused else form_status(form)


def _set_default(scope: Scope, address_id: int):
    address = _address(scope, address_id)
    if ActionForm().validate_on_submit():
        try:
            addresses.set_default(get_session(), actor(), address.id, partner_id=scope.partner_id)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(_("“%(label)s” is now the default delivery address.", label=address.label), "success")
    return redirect(scope.url("list"))


def _remove(scope: Scope, address_id: int):
    address = _address(scope, address_id)  # the access check comes first, on GET too
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return confirm_page(remove_confirmation(scope, address), form)
    try:
        label = addresses.remove(get_session(), actor(), address.id, partner_id=scope.partner_id)
    except ServiceError as err:
        flash(str(err), "error")
    else:
        flash(_("The address “%(label)s” is removed.", label=label), "success")
    return redirect(scope.url("list"))


# --- a partner admin: their own company ----------------------------------------------------------

@bp.get("/company/addresses")
@login_required
@partner_admin_required
def company_list():
    """The company's delivery addresses."""
    return _list(_company())


@bp.route("/company/addresses/new", methods=["GET", "POST"])
@login_required
@partner_admin_required
def company_new():
    """Add a delivery address."""
    return _form(_company())


@bp.route("/company/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@login_required
@partner_admin_required
def company_edit(address_id: int):
    """Change a delivery address."""
    scope = _company()
    return _form(scope, _address(scope, address_id))


@bp.post("/company/addresses/<int:address_id>/default")
@login_required
@partner_admin_required
def company_default(address_id: int):
    """Make an address the default one."""
    return _set_default(_company(), address_id)


@bp.route("/company/addresses/<int:address_id>/remove", methods=["GET", "POST"])
@login_required
@partner_admin_required
def company_remove(address_id: int):
    """Remove an address, once confirmed."""
    return _remove(_company(), address_id)


# --- staff: a partner they look after ------------------------------------------------------------

@bp.get("/manage/partners/<int:partner_id>/addresses")
@login_required
@staff_required
def staff_list(partner_id: int):
    """A partner's delivery addresses."""
    return _list(_staff(partner_id))


@bp.route("/manage/partners/<int:partner_id>/addresses/new", methods=["GET", "POST"])
@login_required
@staff_required
def staff_new(partner_id: int):
    """Add a delivery address for a partner."""
    return _form(_staff(partner_id))


@bp.route("/manage/partners/<int:partner_id>/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@login_required
@staff_required
def staff_edit(partner_id: int, address_id: int):
    """Change a partner's delivery address."""
    scope = _staff(partner_id)
    return _form(scope, _address(scope, address_id))


@bp.post("/manage/partners/<int:partner_id>/addresses/<int:address_id>/default")
@login_required
@staff_required
def staff_default(partner_id: int, address_id: int):
    """Make one of a partner's addresses the default."""
    return _set_default(_staff(partner_id), address_id)


@bp.route("/manage/partners/<int:partner_id>/addresses/<int:address_id>/remove", methods=["GET", "POST"])
@login_required
@staff_required
def staff_remove(partner_id: int, address_id: int):
    """Remove a partner's address, once confirmed."""
    return _remove(_staff(partner_id), address_id)
