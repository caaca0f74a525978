"""KPIs the catalogue promises whose source data the OMS does not record yet.

A KPI waiting for data sets ``waiting_for`` and is listed here with its formula, so the
definition is agreed before the data exists; ``Kpi.compute()`` then says "no data source yet"
and never shows a number. None is waiting now: pick accuracy, return rate and customer
satisfaction went live in quality.py once pack mismatches, returns and ratings were recorded.
"""

KPIS: list = []
