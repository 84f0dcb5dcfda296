"""Codimir connector: ticket tracker behind a Next.js API (session-cookie auth)."""
