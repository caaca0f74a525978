"""The customer promise after intake: notifications (through the outbox), returns, ratings, tracking links
and the order page's care panel."""
