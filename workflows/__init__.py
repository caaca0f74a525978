"""Workflow actions: the cross-app order verbs, one module each (docs/architecture.md, "Workflow actions").

``workflows`` sits above every app (inventory <- orders <- fulfillment <- logistics <- workflows): it may
import them all and no app imports it. Each action takes its locks in one documented order, calls the apps'
services directly inside ONE transaction and returns a result object; nothing is asked of a signal.

The lock order, the same in every action (and in the apps' own services):

1. the order row (``orders.services.order_lock``), before anything else of the order;
2. the order's shipments, by id (``workflows.release``: fulfillment cancels them, logistics voids labels);
3. the stock rows, by (location id, product id) (``fulfillment.routing.lock_stock_rows`` and the guarded
   UPDATEs of ``inventory.services``);
4. then rows hanging off those (parcels, exception cases, return requests), which nothing else locks first.

Modules: ``cancel`` (order_cancel, order_cancel_request), ``partial_cancel`` (a partly shipped order),
``intercept`` (intercept_request), ``changes`` (order_change_address, order_change_lines,
order_change_service, reroute), ``cases`` (a case's address correction), ``returns`` (a return instead of a
cancellation), ``channel`` (updates a channel sends: cancellations and address changes), ``merge`` (a merge
group undone), ``receipts`` (a stock receipt releasing presale orders), ``release`` (the shared step: open
shipments cancelled, labels voided), ``results``, ``tasks`` and ``urls`` (the pages' and the API's URLs of
these verbs, under their old names, each view given its action by the URL).
"""
