"""Admin: products, the CSV catalog import, price tiers and tier assignment."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import SelectChoice

from portal.catalog import admin as catalog_admin
from portal.catalog import browse, importer
from portal.catalog.admin import ProductData
from portal.catalog.forms import AssignTierForm, CatalogImportForm, ProductForm, TierForm, TierPriceForm
from portal.catalog.importer import CatalogImportRejected
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.web.confirm import Confirmation, ConfirmForm, confirm_page
from portal.web.formatting import ngettext
from portal.web.forms import ActionForm, UploadError, list_filters, read_upload
from portal.web.guards import actor, admin_required

bp = Blueprint("catalog_admin", __name__, url_prefix="/admin/catalog")


def _form_error(form, err: ServiceError, default: str) -> None:
    field = getattr(form, err.field or "", None) or getattr(form, default)
    field.errors = [*field.errors, str(err)]


def _product_data(form: ProductForm) -> ProductData:
    return ProductData(sku=form.sku.data or "", name=form.name.data or "",
                       category=form.category.data or "", unit=form.unit.data or "",
                       pack_size=form.pack_size.data, base_price=form.base_price.data,
                       active=bool(form.active.data), vat_rate=form.vat_rate.data)


# --- products -------------------------------------------------------------------------------------

@bp.get("/products")
@login_required
@admin_required
def products():
    """The whole catalog, searched by name or SKU and filtered by category and status."""
    args = list_filters(request.args)
    q, category, status = args["q"], args["category"], args["status"]
    page = browse.list_products(get_session(), q=q, category=category, status=status, page=args["page"])
    back = {key: value for key, value in (("q", q), ("category", category), ("status", status),
                                          ("page", page.page if page.page > 1 else None)) if value}
    stop = {p.id: stop_selling_confirmation(p, back) for p in page.items if p.active}
    return render_template("catalog/products.html", page=page, q=q, category=category,
                           status=status, action_form=ActionForm(), back=back, stop=stop)


def stop_selling_confirmation(product, back: dict) -> Confirmation:
    """How an admin is asked before a product stops being sold (list page dialog and own page)."""
    return Confirmation(
        url=url_for("catalog_admin.deactivate_product", product_id=product.id, **back),
        label=_("Stop selling"), title=_("Stop selling %(name)s?", name=product.name),
        question=_("Partners will no longer see %(sku)s in the catalog or be able to order it; it "
                   "stays in carts and past orders marked as no longer sold. You can sell it again "
                   "later.", sku=product.sku),
        confirm_label=_("Yes, stop selling it"),
        back_url=url_for("catalog_admin.products", **back), back_label=_("Keep selling it"),
    )


@bp.route("/products/new", methods=["GET", "POST"])
@login_required
@admin_required
def new_product():
    """Add a product."""
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = catalog_admin.create_product(get_session(), _product_data(form),
                                                   actor=actor())
        except ServiceError as err:
            _form_error(form, err, "sku")
        else:
            flash(_("Product %(sku)s created.", sku=product.sku), "success")
            return redirect(url_for("catalog_admin.products", q=product.sku))
    return render_template("catalog/product_form.html", form=form,
                           product=None), 422 if form.errors else 200


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@login_required
@admin_required
def edit_product(product_id: int):
    """Change a product."""
    db = get_session()
    try:
        product = catalog_admin.get_product(db, product_id)
    except NotFound:
        abort(404)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            product = catalog_admin.update_product(db, product_id, _product_data(form),
                                                   actor=actor())
        except NotFound:
            abort(404)
        except ServiceError as err:
            _form_error(form, err, "sku")
        else:
            flash(_("Product %(sku)s saved.", sku=product.sku), "success")
            return redirect(url_for("catalog_admin.products", q=product.sku))
    return render_template("catalog/product_form.html", form=form,
                           product=product), 422 if form.errors else 200


def _set_active(product_id: int, active: bool):
    back = {k: v for k, v in request.args.items() if k in ("q", "category", "status", "page") and v}
    if not active:  # stopping a sale asks first (GET: the confirmation page)
        try:
            product = catalog_admin.get_product(get_session(), product_id)
        except NotFound:
            abort(404)
        form = ConfirmForm()
        if request.method == "GET" or not form.validate_on_submit():
            if not product.active:
                return redirect(url_for("catalog_admin.products", **back))
            return confirm_page(stop_selling_confirmation(product, back), form)
    elif not ActionForm().validate_on_submit():
        return redirect(url_for("catalog_admin.products", **back))
    try:
        product = catalog_admin.set_product_active(get_session(), product_id, active, actor=actor())
    except NotFound:
        abort(404)
    if active:
        flash(_("%(sku)s is sold again.", sku=product.sku), "success")
    else:
        flash(_("%(sku)s is no longer sold.", sku=product.sku), "success")
    return redirect(url_for("catalog_admin.products", **back))


@bp.route("/products/<int:product_id>/deactivate", methods=["GET", "POST"])
@login_required
@admin_required
def deactivate_product(product_id: int):
    """Stop selling a product."""
    return _set_active(product_id, False)


@bp.post("/products/<int:product_id>/reactivate")
@login_required
@admin_required
def reactivate_product(product_id: int):
    """Sell a product again."""
    return _set_active(product_id, True)


@bp.route("/products/import", methods=["GET", "POST"])
@login_required
@admin_required
def import_products():
    """Upload a CSV of the catalog: all rows are valid and imported, or nothing is."""
    form = CatalogImportForm()
    bad_rows: list[str] = []
    if form.validate_on_submit():
        text = _read_upload(form)
        if text is not None:
            try:
                result = importer.import_catalog(get_session(), text, actor=actor())
            except CatalogImportRejected as err:
                form.file.errors = [str(err)]
                bad_rows = err.errors
            except ServiceError as err:
                form.file.errors = [str(err)]
            else:
                flash(_("Catalog imported: %(created)s, %(updated)s, %(unchanged)s.",
                        created=ngettext("%(num)d product created", "%(num)d products created",
                                         result.created),
                        updated=ngettext("%(num)d updated", "%(num)d updated", result.updated),
                        unchanged=ngettext("%(num)d unchanged", "%(num)d unchanged",
                                           result.unchanged)), "success")
                return redirect(url_for("catalog_admin.products"))
    status = 422 if form.file.errors else 200
    return render_template("catalog/import.html", form=form, bad_rows=bad_rows,
                           columns=importer.IMPORT_COLUMNS), status


def _read_upload(form: CatalogImportForm) -> str | None:
    try:
        text = read_upload(form.file.data)
    except UploadError as err:
        form.file.errors = [str(err)]
        return None
    if text is None:
        form.file.errors = [_("Choose a CSV file.")]
    return text


# --- price tiers ----------------------------------------------------------------------------------

def _assign_form() -> AssignTierForm:
    db = get_session()
    form = AssignTierForm()
    tiers = {s.tier.id: s.tier.name for s in catalog_admin.list_tiers(db)}
    form.partner.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), f"{p.name} ({p.code}) · {tiers.get(p.tier_id, _('list prices'))}")
        for p in catalog_admin.partner_tiers(db)
    ]
    form.tier.choices = [SelectChoice("", _("No tier (list prices)"))] + [
        SelectChoice(str(tier_id), name) for tier_id, name in tiers.items()
    ]
    return form


def _tiers_page(tier_form: TierForm, assign_form: AssignTierForm, status: int = 200):
    tiers = catalog_admin.list_tiers(get_session())
    return render_template("catalog/tiers.html", tiers=tiers, form=tier_form,
                           assign_form=assign_form), status


@bp.route("/tiers", methods=["GET", "POST"])
@login_required
@admin_required
def tiers():
    """Price tiers; create one; assign a tier to a partner."""
    form = TierForm()
    if form.validate_on_submit():
        try:
            tier = catalog_admin.create_tier(get_session(), name=form.name.data,
                                             discount_percent=form.discount_percent.data,
                                             actor=actor())
        except ServiceError as err:
            _form_error(form, err, "name")
        else:
            flash(_("Price tier %(name)s created.", name=tier.name), "success")
            return redirect(url_for("catalog_admin.edit_tier", tier_id=tier.id))
    return _tiers_page(form, _assign_form(), 422 if form.errors else 200)


@bp.post("/tiers/assign")
@login_required
@admin_required
def assign_tier():
    """Set the tier a partner buys at."""
    form = _assign_form()
    if form.validate_on_submit():
        try:
            partner = catalog_admin.assign_tier(
                get_session(), int(form.partner.data),
                int(form.tier.data) if form.tier.data else None, actor=actor())
        except ServiceError as err:
            _form_error(form, err, "partner")
        else:
            if partner.price_tier:
                flash(_("%(partner)s now buys at tier %(tier)s.", partner=partner.name,
                        tier=partner.price_tier.name), "success")
            else:
                flash(_("%(partner)s now buys at list prices.", partner=partner.name), "success")
            return redirect(url_for("catalog_admin.tiers"))
    return _tiers_page(TierForm(formdata=None), form, 422)


@bp.route("/tiers/<int:tier_id>", methods=["GET", "POST"])
@login_required
@admin_required
def edit_tier(tier_id: int):
    """Rename a tier or change its discount; its explicit prices."""
    db = get_session()
    try:
        tier = catalog_admin.get_tier(db, tier_id)
    except NotFound:
        abort(404)
    form = TierForm(obj=tier)
    if form.validate_on_submit():
        try:
            tier = catalog_admin.update_tier(db, tier_id, name=form.name.data,
                                             discount_percent=form.discount_percent.data,
                                             actor=actor())
        except ServiceError as err:
            _form_error(form, err, "name")
        else:
            flash(_("Price tier %(name)s saved.", name=tier.name), "success")
            return redirect(url_for("catalog_admin.edit_tier", tier_id=tier.id))
    return _tier_page(tier, form, TierPriceForm(formdata=None), 422 if form.errors else 200)


def _tier_page(tier, form: TierForm, price_form: TierPriceForm, status: int):
    return render_template("catalog/tier.html", tier=tier, form=form, price_form=price_form,
                           prices=catalog_admin.tier_prices(get_session(), tier),
                           action_form=ActionForm()), status


@bp.post("/tiers/<int:tier_id>/prices")
@login_required
@admin_required
def set_tier_price(tier_id: int):
    """Set a tier's explicit price for one product."""
    db = get_session()
    try:
        tier = catalog_admin.get_tier(db, tier_id)
    except NotFound:
        abort(404)
    price_form = TierPriceForm()
    if price_form.validate_on_submit():
        try:
            catalog_admin.set_tier_price(db, tier_id, sku=price_form.sku.data,
                                         price=price_form.price.data, actor=actor())
        except ServiceError as err:
            _form_error(price_form, err, "sku")
        else:
            flash(_("Explicit price for %(sku)s saved.",
                    sku=catalog_admin.normalize_sku(price_form.sku.data)), "success")
            return redirect(url_for("catalog_admin.edit_tier", tier_id=tier_id))
    return _tier_page(tier, TierForm(formdata=None, obj=tier), price_form, 422)


@bp.post("/tiers/<int:tier_id>/prices/<int:product_id>/remove")
@login_required
@admin_required
def remove_tier_price(tier_id: int, product_id: int):
    """Drop a tier's explicit price; the tier's discount applies again."""
    if ActionForm().validate_on_submit():
        try:
            product = catalog_admin.remove_tier_price(get_session(), tier_id, product_id,
                                                      actor=actor())
        except NotFound:
            abort(404)
        flash(_("The explicit price for %(sku)s is removed.", sku=product.sku), "success")
    return redirect(url_for("catalog_admin.edit_tier", tier_id=tier_id))
