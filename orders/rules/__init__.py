"""Rules evaluated against orders: classification, review holds and what may change at each stage."""
