"""DM nudges and sharing campaigns, with guardrails that protect ambassadors (issue 11)."""
