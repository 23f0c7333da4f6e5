"""standing orders: review drafts, partner settings, a delivery address per schedule

Revision ID: caf0e6b46d79
Revises: 5b1e9c3d7a42

Partners get standing-order settings (review lead days, reminder days; no row: the defaults 3
and 2); review-mode schedules get one draft per (schedule, date); a schedule may name one of the
partner's delivery addresses (removed address: back to the default).
Create Date: 2026-12-02 18:27:49.189130
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'caf0e6b46d79'
down_revision: str | Sequence[str] | None = '5b1e9c3d7a42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recurring_settings',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('review_lead_days', sa.Integer(), nullable=False),
    sa.Column('reminder_days', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reminder_days BETWEEN 1 AND 14', name=op.f('ck_recurring_settings_reminder_days')),
    sa.CheckConstraint('review_lead_days BETWEEN 0 AND 14', name=op.f('ck_recurring_settings_lead_days')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_recurring_settings_partner_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_recurring_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('partner_id', name=op.f('pk_recurring_settings'))
    )
    op.create_table('recurring_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recurring_order_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('occurrence_date', sa.Date(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_recurring_drafts_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_recurring_drafts_partner_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recurring_order_id'], ['recurring_orders.id'], name=op.f('fk_recurring_drafts_recurring_order_id_recurring_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_drafts')),
    sa.UniqueConstraint('recurring_order_id', 'occurrence_date', name=op.f('uq_recurring_drafts_recurring_order_id_occurrence_date'))
    )
    with op.batch_alter_table('recurring_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recurring_drafts_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recurring_drafts_recurring_order_id'), ['recurring_order_id'], unique=False)

    with op.batch_alter_table('recurring_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_recurring_orders_address_id_delivery_addresses'), 'delivery_addresses', ['address_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('recurring_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recurring_orders_address_id_delivery_addresses'), type_='foreignkey')
        batch_op.drop_column('address_id')

    with op.batch_alter_table('recurring_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurring_drafts_recurring_order_id'))
        batch_op.drop_index(batch_op.f('ix_recurring_drafts_partner_id'))

    op.drop_table('recurring_drafts')
    op.drop_table('recurring_settings')
