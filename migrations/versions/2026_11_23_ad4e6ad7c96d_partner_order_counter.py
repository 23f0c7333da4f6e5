"""partner order counter

Revision ID: ad4e6ad7c96d
Revises: 3c3f76e1c7c5

Partners count their orders, so milestones (1st, every 10th) are exact under concurrency.
Create Date: 2026-11-23 02:25:16.893970
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ad4e6ad7c96d'
down_revision: str | Sequence[str] | None = '3c3f76e1c7c5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_count', sa.Integer(), server_default='0', nullable=False))
    op.execute(
        "UPDATE partners SET order_count ="
        " (SELECT count(*) FROM orders WHERE orders.partner_id = partners.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_column('order_count')

