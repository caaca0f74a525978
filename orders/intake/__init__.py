"""Intake: adapters turn each channel format into one canonical order shape."""
