"""Staff pages and endpoints of orders, one module per sub-domain (the URLs are in orders/urls/)."""
