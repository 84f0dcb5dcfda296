"""The connectors each app offers its consumers: ``apps.services``, a JSON list of service ids, NULL for every
installed connector (what every app offered before, so existing apps keep it). Set with ``unigate vault
app-update --services``; the Vault API and the connect page list only these (docs/vault-api.md).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, Text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("apps", Column("services", Text))
