"""Selectel Tickets API connector (technical-support tickets of a Selectel account)."""
