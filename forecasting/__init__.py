"""Trellis forecasting: next-year monthly sales per partner.

Pandas in, pandas out; statsmodels underneath; no knowledge of Flask or the
database.  See ``docs/forecasting.md`` for the method and its measured
accuracy.

>>> from forecasting import forecast, forecast_many, backtest, Forecast
"""

from ._backtest import backtest
from ._batch import forecast_many
from ._core import forecast
from ._result import Backtest, Forecast

__all__ = ["forecast", "forecast_many", "backtest", "Forecast", "Backtest"]
