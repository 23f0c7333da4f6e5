"""Which members are seasonal, by history length, and the default's guard against a member
that strays (issue 11)."""
import numpy as np
import pytest

import forecasting
from forecasting import forecast

from .helpers import PATTERN, monthly


def test_short_history_members_repeat_the_season_ets_found(rng):
    """Issue 11: below 60 months the autocorrelation test rarely sees a season (two or three
    cycles); Theta and damped Holt-Winters then take ETS's AICc choice instead of ignoring it."""
    from forecasting._models import is_seasonal

    rng = np.random.default_rng(17)
    values = np.tile(PATTERN, 3)[:30] * (1 + rng.normal(0, 0.08, 30)) + np.arange(30.0)
    assert not is_seasonal(values)  # the test alone would leave the season to ETS
    members, _ = forecasting._core.fit_members(values, 12)
    assert [m.spec[-1] for m in members] == ["A", "M", "A"]  # ETS, Theta, damped: all seasonal
    fc = forecast(monthly(values))
    swing = fc.mean.max() - fc.mean.min()
    assert swing > 0.7 * np.ptp(PATTERN)  # the season survives the combination
    assert np.corrcoef(fc.mean.to_numpy(), PATTERN[(30 + np.arange(12)) % 12])[0, 1] > 0.9


def test_short_history_members_ignore_a_step_that_aicc_reads_as_a_season(rng):
    """A partner that tripled a year ago: below 60 months the members take ETS's season only
    if the same months are high in each whole year (a step is not a pattern)."""
    from forecasting._core import season_recurs

    values = np.r_[np.full(24, 100.0), np.full(12, 300.0)] + rng.normal(0, 3, 36)
    members, _ = forecasting._core.fit_members(values, 12)
    by_name = {m.name: m.spec for m in members}
    assert by_name["theta"] == "N" and by_name["damped"] == "A,Ad,N"
    assert not season_recurs(values)
    assert season_recurs(np.tile(PATTERN, 3) * (1 + rng.normal(0, 0.05, 36)))
    fc = forecast(monthly(values))
    np.testing.assert_allclose(fc.mean.to_numpy(), 300, rtol=0.2)


@pytest.mark.parametrize("before, after", [(100.0, 300.0), (300.0, 100.0)])
def test_a_member_that_strays_is_outvoted_by_the_default(before, after):
    """Two years with a step after the first: AICc's ETS reads the step as trend and season and
    runs away (up or down to zero); the default then takes the members' median, and says so."""
    rng = np.random.default_rng(0)
    history = monthly(np.r_[np.full(12, before), np.full(12, after)] + rng.normal(0, 5, 24))
    fc, mean_of_three = forecast(history), forecast(history, method="combo")
    assert fc.model == "median(ets,theta,damped)" and "used their median" in fc.reason
    assert fc.reason.startswith("ets(")  # the member that strayed is named
    assert mean_of_three.model == "combo(ets,theta,damped)" and mean_of_three.reason is None
    assert abs(fc.mean.mean() - after) < 0.75 * abs(mean_of_three.mean.mean() - after)
    assert fc.mean.mean() > 0.4 * after


def test_long_history_members_ignore_a_season_only_aicc_sees(rng):
    """From 60 months the test decides: a step change that AICc may read as a season does not
    make Theta and Holt-Winters repeat it."""
    values = np.r_[np.full(48, 100.0), np.full(24, 300.0)] + rng.normal(0, 3, 72)
    members, _ = forecasting._core.fit_members(values, 12)
    by_name = {m.name: m.spec for m in members}
    assert by_name["theta"] == "N" and by_name["damped"] == "A,Ad,N"
