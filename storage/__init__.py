"""Persistence and domain rules for klikbot: models, queries, migrations and the demo dataset.

Nothing in this package knows about HTTP, Teams or the Bot Framework.
"""
