"""Kudos capability."""
