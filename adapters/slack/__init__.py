"""Slack adapter (slack-bolt)."""

from adapters.slack.app import SlackAdapter

__all__ = ["SlackAdapter"]
