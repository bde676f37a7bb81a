"""Durable records: tickets (hand-offs and assistance applications), messages, feedback, audit log.

SQLAlchemy models with Alembic migrations; SQLite by default, PostgreSQL in
production (``WEIYUAN_DATABASE__URL``).
"""
