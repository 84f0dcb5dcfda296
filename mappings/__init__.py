"""Declarative mapping files, one per connector (loaded as package data)."""
