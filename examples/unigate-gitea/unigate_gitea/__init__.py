"""The Gitea connector for unigate: manifest.yaml (the connector), plugin.py (registration), simulator.py."""
