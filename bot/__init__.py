"""Allybot's platform-neutral core. Never imports Slack, Teams or HTTP libraries."""
