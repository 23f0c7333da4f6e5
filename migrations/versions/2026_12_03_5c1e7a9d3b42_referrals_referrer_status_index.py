"""referrals: one index on (referrer_id, status) in place of the one on referrer_id

Revision ID: 5c1e7a9d3b42
Revises: b7d41e0c9a25

Each new referral counts its referrer's converted referrals (the lead score), and "My referrals"
counts a referrer's referrals by status; with an index on referrer_id alone, both read every
referral the referrer ever sent. The new index also serves every lookup by referrer_id.
Create Date: 2026-12-03 15:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '5c1e7a9d3b42'
down_revision: str | Sequence[str] | None = 'b7d41e0c9a25'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_referrer_status', ['referrer_id', 'status'], unique=False)
        batch_op.drop_index('ix_referrals_referrer_id')


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_referrer_id', ['referrer_id'], unique=False)
        batch_op.drop_index('ix_referrals_referrer_status')
