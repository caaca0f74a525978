"""KPIs the catalogue promises whose source data the OMS does not record yet.

Each is listed with its formula so the definition is agreed before the data exists; compute()
says "no data source yet" and never shows a number.
"""

from .base import Kpi


class PickAccuracy(Kpi):
    slug = "pick-accuracy"
    title = "Pick accuracy"
    group = "Fulfilment"
    unit = "%"
    formula = "Share of packed order lines whose scanned items matched the pick list on the first scan."
    numerator = "Packed shipment lines with no pack-scan mismatch (wrong item, wrong quantity)."
    denominator = "Packed shipment lines in the period (Shipment.packed_at)."
    timestamps = "Shipment.packed_at, local day."
    waiting_for = "pack-scan mismatch records (the packing station does not store scan results yet)"


class ReturnRate(Kpi):
    slug = "return-rate"
    title = "Return rate by product and reason"
    group = "Returns and service"
    unit = "%"
    formula = "Units returned divided by units delivered, per product and return reason."
    numerator = (
        "Returned units of the orders delivered in the period, whenever the return arrives (a return after the "
        "period still counts for its order)."
    )
    denominator = "Units delivered in the period (order lines of delivered orders)."
    timestamps = "Delivery day of the order; the return's own date only places it in the 'returned later' column."
    waiting_for = "returns (orders have no return records yet)"


class CustomerSatisfaction(Kpi):
    slug = "customer-satisfaction"
    title = "Customer satisfaction"
    group = "Returns and service"
    unit = "score"
    formula = "Mean survey score (1–5) and the share of 4 and 5 answers, per channel and carrier."
    numerator = "Σ scores of the survey answers received for orders delivered in the period."
    denominator = "Number of survey answers."
    timestamps = "Delivery day of the order the answer is about."
    waiting_for = "satisfaction surveys (no survey answers are collected yet)"


KPIS = [PickAccuracy(), ReturnRate(), CustomerSatisfaction()]
