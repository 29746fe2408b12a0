"""Probes of the fixture project (see the kit's homework/probes/__init__.py for the format)."""
