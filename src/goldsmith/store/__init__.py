"""Storage: SQLAlchemy Core tables, engines per backend, migrations, and the Store interface."""

from goldsmith.store.base import Store, StoreTx

__all__ = ["Store", "StoreTx"]
