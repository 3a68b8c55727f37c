"""What recognition lets only some roles do."""

from __future__ import annotations

from bot.roles import Permission, Role

_CURATORS = (Role.CURATOR, Role.COMMUNITY_MANAGER)

MANAGE_BADGES = Permission("badges.manage", "create, edit or retire badges", _CURATORS)
AWARD_BADGES = Permission("badges.award", "award or revoke badges", _CURATORS)
SEE_REWARDS = Permission(
    "rewards.see", "see people's reward preferences", (Role.COMMUNITY_MANAGER,)
)
SET_TEAMS = Permission("teams.set", "set people's teams", (Role.COMMUNITY_MANAGER,))

ALL = (MANAGE_BADGES, AWARD_BADGES, SEE_REWARDS, SET_TEAMS)
