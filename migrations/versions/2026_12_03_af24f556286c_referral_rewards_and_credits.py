"""referral rewards and credits

Revision ID: af24f556286c
Revises: 467e40feff06

Credits a partner spends on its next orders (with each order's use of them, given back when the
order is cancelled), the credit an order took (`orders.credit_applied`), the partner's balance,
and the reward each converted referral earns its referrer (one per referral).
Create Date: 2026-12-03 11:37:55.497641
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'af24f556286c'
down_revision: str | Sequence[str] | None = '467e40feff06'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('credits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('remaining', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('source_key', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credits_amount')),
    sa.CheckConstraint('remaining >= 0 AND remaining <= amount', name=op.f('ck_credits_remaining')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_credits_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credits')),
    sa.UniqueConstraint('source_key', name=op.f('uq_credits_source_key'))
    )
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credits_partner_id'), ['partner_id'], unique=False)

    op.create_table('credit_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_uses_amount')),
    sa.ForeignKeyConstraint(['credit_id'], ['credits.id'], name=op.f('fk_credit_uses_credit_id_credits'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_credit_uses_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_uses'))
    )
    with op.batch_alter_table('credit_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_uses_credit_id'), ['credit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_uses_order_id'), ['order_id'], unique=False)

    op.create_table('referral_rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('referrer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('credit_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'granted')", name=op.f('ck_referral_rewards_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_referral_rewards_amount')),
    sa.ForeignKeyConstraint(['credit_id'], ['credits.id'], name=op.f('fk_referral_rewards_credit_id_credits'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_referral_rewards_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_rewards_referral_id_referrals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['referrer_id'], ['partners.id'], name=op.f('fk_referral_rewards_referrer_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_rewards')),
    sa.UniqueConstraint('credit_id', name=op.f('uq_referral_rewards_credit_id')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_referral_rewards_referral_id'))
    )
    with op.batch_alter_table('referral_rewards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_rewards_referrer_id'), ['referrer_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_applied', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_orders_credit_applied'), 'credit_applied >= 0')

    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_balance', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_column('credit_balance')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orders_credit_applied'), type_='check')
        batch_op.drop_column('credit_applied')

    with op.batch_alter_table('referral_rewards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_rewards_referrer_id'))

    op.drop_table('referral_rewards')
    with op.batch_alter_table('credit_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_uses_order_id'))
        batch_op.drop_index(batch_op.f('ix_credit_uses_credit_id'))

    op.drop_table('credit_uses')
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credits_partner_id'))

    op.drop_table('credits')
