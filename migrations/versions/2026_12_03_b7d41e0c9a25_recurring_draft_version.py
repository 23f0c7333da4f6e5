"""recurring_drafts: a version number, so two changes of one draft cannot overwrite each other

Revision ID: b7d41e0c9a25
Revises: 81e105f8ff0b

A change names the version it was made from (the form's hidden field, the API's `version`) and is
written only if the draft still has it (compare and set); the version goes up by one each time.
Create Date: 2026-12-03 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7d41e0c9a25'
down_revision: str | Sequence[str] | None = '81e105f8ff0b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('recurring_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('recurring_drafts', schema=None) as batch_op:
        batch_op.drop_column('version')
