"""Storage: schema, migrations and queries. Knows nothing of the core's rules or of platforms."""

from store.session import Database, DuplicateError

__all__ = ["Database", "DuplicateError"]
