"""Storage: schema, migrations and queries. Knows nothing of the core's rules or of platforms."""

from store.errors import DatabaseUnavailable, is_unavailable
from store.session import ConflictError, Database, DuplicateError, is_conflict, is_duplicate

__all__ = [
    "ConflictError",
    "Database",
    "DatabaseUnavailable",
    "DuplicateError",
    "is_conflict",
    "is_duplicate",
    "is_unavailable",
]
