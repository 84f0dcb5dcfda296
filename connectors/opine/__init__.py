"""Opine (api.tryopine.com) connector: tickets linked as requests on sales deals."""
