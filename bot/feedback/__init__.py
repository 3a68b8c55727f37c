"""Feedback capability."""
