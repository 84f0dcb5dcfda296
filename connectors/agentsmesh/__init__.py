"""AgentsMesh connector: the Tickets external API (API-key auth, org-scoped paths)."""
