"""referrals and their history

Revision ID: 9ccdec361544
Revises: caf0e6b46d79

Partners recommend retailers: the referral (with its normalised keys for duplicate detection,
its idempotency key and, once converted, the partner it became), every change of its status,
and the new partner's `referred_by`.
Create Date: 2026-12-02 18:28:01.903777
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9ccdec361544'
down_revision: str | Sequence[str] | None = 'caf0e6b46d79'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referred_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_partners_referred_by_id'), ['referred_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_partners_referred_by_id_partners'), 'partners',
                                    ['referred_by_id'], ['id'], ondelete='SET NULL')
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referrer_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('referrer_name', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('company_key', sa.String(length=200), nullable=False),
    sa.Column('email_key', sa.String(length=254), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_of_partner_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_reason', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('score_reasons', sa.JSON(), nullable=False),
    sa.Column('reject_reason', sa.String(length=300), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('converted_partner_id', sa.Integer(), nullable=True),
    sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('portal', 'link', 'api')", name=op.f('ck_referrals_source')),
    sa.CheckConstraint("status IN ('submitted', 'contacted', 'qualified', 'converted', 'rejected', 'duplicate')", name=op.f('ck_referrals_status')),
    sa.CheckConstraint('consent', name=op.f('ck_referrals_consent')),
    sa.CheckConstraint('score BETWEEN 0 AND 100', name=op.f('ck_referrals_score')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['referrals.id'], name=op.f('fk_referrals_duplicate_of_id_referrals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['duplicate_of_partner_id'], ['partners.id'], name=op.f('fk_referrals_duplicate_of_partner_id_partners'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['converted_partner_id'], ['partners.id'], name=op.f('fk_referrals_converted_partner_id_partners'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], name=op.f('fk_referrals_manager_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referrer_id'], ['partners.id'], name=op.f('fk_referrals_referrer_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_referrals_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('converted_partner_id', name=op.f('uq_referrals_converted_partner_id')),
    sa.UniqueConstraint('referrer_id', 'idempotency_key', name=op.f('uq_referrals_referrer_id_idempotency_key'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_company_key', ['company_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_referrals_domain', ['domain'], unique=False)
        batch_op.create_index('ix_referrals_email_key', ['email_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_manager_id'), ['manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_referrer_id'), ['referrer_id'], unique=False)

    op.create_table('referral_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_referral_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_events_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_events'))
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_events_referral_id'), ['referral_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_events_referral_id'))

    op.drop_table('referral_events')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_referrer_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_manager_id'))
        batch_op.drop_index('ix_referrals_email_key')
        batch_op.drop_index('ix_referrals_domain')
        batch_op.drop_index(batch_op.f('ix_referrals_created_at'))
        batch_op.drop_index('ix_referrals_company_key')

    op.drop_table('referrals')
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_partners_referred_by_id_partners'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_partners_referred_by_id'))
        batch_op.drop_column('referred_by_id')
