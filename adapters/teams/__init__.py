"""Microsoft Teams, through botbuilder (every botbuilder import stays inside this package)."""

from adapters.teams.adapter import TeamsAdapter

__all__ = ["TeamsAdapter"]
