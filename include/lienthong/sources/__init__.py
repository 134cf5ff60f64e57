"""Connectors: read what an organisation sent, as canonical rows."""
