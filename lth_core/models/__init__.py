"""Architectures, and the physically smaller network a structured ticket becomes."""
