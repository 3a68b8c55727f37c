"""The ambassador program and community governance (issue 10)."""
