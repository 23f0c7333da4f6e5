"""Forecast models, fallback reasons and trust in plain words (both languages)."""
from __future__ import annotations

from flask_babel import gettext as _

from portal.workspace.forecast_models import PartnerForecast


def model_words(model: str) -> str:
    if model.startswith(("median(", "combo(")):
        return _("a combination of three statistical models (exponential smoothing, Theta, damped trend)")
    if model.startswith("ets("):
        return _("exponential smoothing")
    return {
        "theta": _("the Theta method"),
        "damped": _("a damped trend"),
        "croston_sba": _("a method for irregular orders (Croston)"),
        "seasonal_naive": _("last year's months repeated"),
        "level": _("the average month so far"),
        "constant": _("the same amount every month"),
        "zero": _("no sales"),
        "none": _("none"),
    }.get(model, model)


def reason_words(forecast: PartnerForecast) -> str:
    """Why a simpler model stood in (or why there is no forecast), in plain words."""
    if forecast.status == "failed":
        return _("The forecast could not be made; the technical reason is below.")
    if forecast.status != "fallback":
        return ""
    reason = forecast.reason or ""
    if forecast.model == "seasonal_naive":
        if "failed" in reason:
            return _("The statistical models could not be fitted, so last year's months are repeated.")
        return _("Fewer than two years of orders: last year's months are repeated.")
    if forecast.model == "level":
        return _("Less than a year of orders: the average month so far is carried forward.")
    if forecast.model == "zero":
        if "inactive" in reason:
            return _("No orders for several months: the partner is treated as inactive.")
        return _("No orders yet to forecast from.")
    if forecast.model == "constant":
        return _("The same amount every month so far: it is carried forward.")
    if forecast.model == "croston_sba":
        return _("Irregular orders and less than two years of them.")
    return _("A simpler model was used.")


def trust_words(trust: str) -> str:
    return {
        "better": _("better than repeating last year"),
        "no_better": _("no better than repeating last year"),
    }.get(trust, _("not enough history to judge"))
