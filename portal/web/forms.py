"""Forms shared by several areas."""
from flask import flash, request
from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from portal.core.errors import ServiceError
from portal.core.paging import MAX_PAGE
from portal.core.text import MAX_QUERY
from portal.web.form_base import Form


class PageForm(Form):
    """A list's page number from the address bar (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)], default=1)


class ListFilterForm(PageForm):
    """A list's search box and its category/status filters, from the address bar."""

    q = StringField(validators=[Optional(), Length(max=MAX_QUERY)])
    category = StringField(validators=[Optional(), Length(max=MAX_QUERY)])
    status = StringField(validators=[Optional(), Length(max=40)])


def list_filters(args) -> dict[str, str | int]:
    """Typed filters of a list page: q, category, status and page; invalid ones are dropped."""
    form = ListFilterForm(args)
    form.validate()
    values = {name: (form[name].data or "").strip() if not form[name].errors else ""
              for name in ("q", "category", "status")}
    values["page"] = (form.page.data or 1) if not form.page.errors else 1
    return values


def page_from(args) -> int:
    """The page asked for in the query string; 1 when absent or not a page number."""
    form = PageForm(args)
    return (form.page.data or 1) if form.validate() else 1


class AmountField(DecimalField):
    """A DecimalField that refuses NaN, sNaN and Infinity (Decimal parses them, and comparing
    an sNaN in NumberRange raises instead of failing validation)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(str(_l("Enter an amount like 12.50.")))


MAX_UPLOAD = 2 * 1024 * 1024  # bytes: a CSV upload (quick order, catalog import)


class UploadError(ValueError):
    """An uploaded file that cannot be read as text; the message is safe to show."""


def read_upload(upload, *, max_bytes: int = MAX_UPLOAD) -> str | None:
    """The text of an uploaded CSV file (UTF-8, a BOM dropped); None when no file was chosen.

    The one upload reader: reads at most ``max_bytes`` + 1 bytes, and refuses a larger file, one
    that is not UTF-8, or one holding a NUL character (PostgreSQL text cannot store it).
    """
    if upload is None or not getattr(upload, "filename", None):
        return None
    raw = upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise UploadError(_l("The file is larger than %(n)d MB.", n=max_bytes // (1024 * 1024)))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(_l("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")) from None
    if "\x00" in text:
        raise UploadError(_l("The file contains a character that is not allowed (NUL)."))
    return text


class ActionForm(Form):
    """A form with nothing but its CSRF token, for POST-only buttons (logout, deactivate)."""


def show_service_error(form: Form, err: ServiceError, *, default_field: str | None = None) -> None:
    """Show a service's message under the form field it names (or ``default_field``), else as a
    flash above the form. The one way a view puts a business rule's refusal on a page."""
    name = err.field or default_field
    field = form._fields.get(name) if name else None
    if field is None:
        flash(str(err), "error")
    else:
        field.errors = [*field.errors, str(err)]


def form_status(*forms: Form) -> int:
    """The status of a page that shows forms: 422 when a posted one has errors, else 200."""
    return 422 if request.method == "POST" and any(form.errors for form in forms) else 200
