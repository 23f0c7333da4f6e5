"""Tests of the forecasting library (no Flask, no database)."""
