"""Storage: schema, migrations and queries. Knows nothing of the core's rules or of platforms."""

from store.session import ConflictError, Database, DuplicateError, is_conflict, is_duplicate

__all__ = ["ConflictError", "Database", "DuplicateError", "is_conflict", "is_duplicate"]
