"""Croston's method with the Syntetos-Boylan correction, against hand calculations."""

import numpy as np
import pytest

from forecasting import forecast
from forecasting._intermittent import fit_sba, is_intermittent, sba_rates

from .helpers import PATTERN, monthly


def test_sba_rates_match_a_hand_calculation_with_alpha_one_half():
    # Orders of 6, 4 and 3 in months 3, 5 and 8 (1-based).
    #   month 3: size 6, interval 3 (months since the start)    rate 0.75 * 6 / 3      = 1.5
    #   month 5: size 6 + .5 (4 - 6) = 5, interval 3 + .5 (2 - 3) = 2.5;  0.75 * 5 / 2.5 = 1.5
    #   month 8: size 5 + .5 (3 - 5) = 4, interval 2.5 + .5 (3 - 2.5) = 2.75;  0.75 * 4 / 2.75
    rates = sba_rates(np.array([0, 0, 6, 0, 4, 0, 0, 3.0]), alpha=0.5)
    np.testing.assert_allclose(rates, [0, 0, 1.5, 1.5, 1.5, 1.5, 1.5, 3 / 2.75], rtol=1e-12)


def test_sba_rates_match_a_hand_calculation_with_the_default_alpha():
    #   month 1: size 5, interval 1                          rate .95 * 5 / 1       = 4.75
    #   month 4: size 5.5, interval 1 + .1 (3 - 1) = 1.2      rate .95 * 5.5 / 1.2
    #   month 6: size 5.5 + .1 (5 - 5.5) = 5.45, interval 1.2 + .1 (2 - 1.2) = 1.28
    rates = sba_rates(np.array([5, 0, 0, 10, 0, 5.0]))
    expected = [4.75, 4.75, 4.75, 0.95 * 5.5 / 1.2, 0.95 * 5.5 / 1.2, 0.95 * 5.45 / 1.28]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)


def test_sba_member_forecasts_flat_from_every_origin():
    y = np.array([0, 3, 0, 0, 9, 0, 2, 0.0])
    fit = fit_sba(y, 4)
    assert fit.paths.shape == (8, 4)
    np.testing.assert_allclose(fit.paths, np.repeat(sba_rates(y)[:, None], 4, axis=1))
    np.testing.assert_allclose(fit.forecast, sba_rates(y)[-1])


def _lumpy(rng, months):
    """Orders every second to fourth month, at random, of random size."""
    gaps = rng.integers(2, 5, months)
    when = np.cumsum(gaps)
    y = np.zeros(months)
    y[when[when < months]] = rng.gamma(4, 25, int((when < months).sum()))
    return y


def test_a_calendar_seasonal_or_rarely_empty_history_is_not_intermittent(rng):
    assert is_intermittent(_lumpy(rng, 48))
    in_season_only = np.tile([0, 0, 0, 0, 0, 0, 0, 0, 0, 300, 500, 400.0], 4)
    assert not is_intermittent(in_season_only)
    like_clockwork = np.tile([0, 0, 90.0], 16)  # same calendar months every year
    assert not is_intermittent(like_clockwork)
    assert not is_intermittent(np.r_[np.zeros(5), np.ones(31)])


@pytest.mark.parametrize("months", [18, 48])
def test_a_lumpy_partner_gets_the_intermittent_method(months, rng):
    every_third = _lumpy(rng, months)
    every_third[0] = 50.0  # active from the first month
    fc = forecast(monthly(every_third), level=(80, 95))
    assert fc.model == "croston_sba"
    assert fc.status == ("ok" if months >= 24 else "fallback")
    rate = sba_rates(every_third)[-1]
    np.testing.assert_allclose(fc.mean.to_numpy(), rate)
    # About a third of the average order per month, and intervals that nest.
    assert 0.5 * every_third.sum() / months < rate < 1.5 * every_third.sum() / months
    assert (fc.lower[95] <= fc.lower[80]).all() and (fc.upper[80] <= fc.upper[95]).all()
    assert (fc.lower[80] <= fc.mean).all() and (fc.mean < fc.upper[80]).all()
    mean, lower, upper = fc.total(80)
    assert 0 <= lower < mean < upper


def test_a_seasonal_partner_with_off_months_keeps_the_seasonal_models(rng):
    year = np.where(PATTERN > 110, PATTERN, 0.0)  # empty half the year
    values = np.tile(year, 4) * (1 + rng.normal(0, 0.05, 48))
    fc = forecast(monthly(values))
    assert fc.model != "croston_sba"
