"""Tables for ``forecast_accuracy.py``: per source, the macro average, by history length."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = {"mase": "MASE", "smape": "sMAPE %", "beats_naive": "beats s. naive",
           "cov80": "80 %", "cov95": "95 %", "total80": "total 80 %", "total95": "total 95 %",
           "ms": "ms / series"}
MACRO = "macro average"


def source_table(results: pd.DataFrame, *, naive: str) -> pd.DataFrame:
    """Per (source, method) means, plus the macro average (each source weighs the same).

    Index: (source, method); columns as in ``COLUMNS``.
    """
    key = ["source", "series"]
    naive_mase = results[results.method == naive].set_index(key)["mase"]
    joined = results.join(naive_mase.rename("naive_mase"), on=key)
    results = results.assign(beats_naive=(joined["mase"] < joined["naive_mase"]).astype(float)
                             .where(joined["method"] != naive))
    order = list(dict.fromkeys(results["method"]))
    per = results.groupby(["source", "method"], sort=False).agg(
        mase=("mase", "mean"), smape=("smape", "mean"), beats_naive=("beats_naive", "mean"),
        cov80=("in80", "mean"), cov95=("in95", "mean"), total80=("total_in80", "mean"),
        total95=("total_in95", "mean"), ms=("ms", "mean"), series=("series", "nunique"))
    sources = list(dict.fromkeys(results["source"]))
    macro = per.groupby(level="method", sort=False).mean()
    # A method missing from a source (e.g. Croston on non-intermittent data) has no macro row.
    complete = per.groupby(level="method").size() == len(sources)
    macro = macro[complete.reindex(macro.index).fillna(False).to_numpy()]
    macro.index = pd.MultiIndex.from_tuples([(MACRO, m) for m in macro.index],
                                            names=["source", "method"])
    rows = [(s, m) for s in [*sources, MACRO] for m in order]
    return pd.concat([per, macro]).reindex(rows).dropna(how="all")


def _cell(column: str, value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if column in ("mase",):
        return f"{value:.3f}"
    if column == "smape":
        return f"{value:.2f}"
    if column == "ms":
        return "< 1" if value < 1 else f"{value:.0f}"
    if column == "series":
        return f"{value:.0f}"
    return f"{100 * value:.1f} %"


def markdown(table: pd.DataFrame, columns=None) -> str:
    """A (source, method)-indexed table as Markdown."""
    columns = columns or list(COLUMNS)
    header = ["source", "method", *(COLUMNS.get(c, c) for c in columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (source, method), row in table.iterrows():
        cells = [_cell(c, row.get(c)) for c in columns]
        lines.append("| " + " | ".join([str(source), str(method), *cells]) + " |")
    return "\n".join(lines)


def lengths_table(by_length: pd.DataFrame) -> pd.DataFrame:
    """Coverage of the default per (source, history-length band), monthly and total."""
    table = by_length.groupby(["source", "band"], sort=False).agg(
        cov80=("in80", "mean"), cov95=("in95", "mean"), total80=("total_in80", "mean"),
        total95=("total_in95", "mean"), mase=("mase", "mean"), ms=("ms", "mean"),
        series=("series", "nunique"))
    return table


def speed_by_length(by_length: pd.DataFrame) -> dict:
    """Mean milliseconds per series (one process) by history-length band."""
    return {band: round(float(ms), 1)
            for band, ms in by_length.groupby("band", sort=False)["ms"].mean().items()}


def lengths_markdown(table: pd.DataFrame) -> str:
    columns = ["series", "cov80", "cov95", "total80", "total95", "mase", "ms"]
    header = ["source", "history", "series", "80 %", "95 %", "total 80 %", "total 95 %", "MASE",
              "ms / series"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (source, band), row in table.iterrows():
        lines.append("| " + " | ".join([str(source), str(band),
                                        *(_cell(c, row[c]) for c in columns)]) + " |")
    return "\n".join(lines)
