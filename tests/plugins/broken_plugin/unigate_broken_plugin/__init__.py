"""A plugin that cannot load."""
