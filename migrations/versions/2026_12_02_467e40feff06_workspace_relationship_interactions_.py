"""workspace relationship: interactions, stage changes, feedback

Revision ID: 467e40feff06
Revises: 7f3a9c2e5d18

The account manager's relationship work: interactions logged with a partner (call, visit, email,
note), the ladder stage changes managers confirm or override (from, to, the suggestion at the
time, who, when, why), and partner users' NPS answers (one per user and quarter; a low score
links the follow-up task). Orders already have promised_date and delivered_at, which the
on-time KPI reads, so no order column changes. Tasks get no column: "feedback" is a new task kind
(tasks.kind has no check constraint).
Create Date: 2026-12-02 18:27:21.631680
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '467e40feff06'
down_revision: str | Sequence[str] | None = '7f3a9c2e5d18'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('interactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('call', 'visit', 'email', 'note')", name=op.f('ck_interactions_kind')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_interactions_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_interactions_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions'))
    )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.create_index('ix_interactions_partner_id_happened_on', ['partner_id', 'happened_on'], unique=False)

    op.create_table('stage_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('from_stage', sa.String(length=20), nullable=False),
    sa.Column('to_stage', sa.String(length=20), nullable=False),
    sa.Column('suggested_stage', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("to_stage IN ('prospect', 'customer', 'client', 'supporter', 'advocate', 'partner')", name=op.f('ck_stage_changes_to_stage')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_stage_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_stage_changes_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_changes'))
    )
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.create_index('ix_stage_changes_partner_id_created_at', ['partner_id', 'created_at'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score >= 0 AND score <= 10', name=op.f('ck_feedback_score')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_feedback_partner_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_feedback_task_id_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feedback_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('user_id', 'quarter', name=op.f('uq_feedback_user_id_quarter'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_partner_id_created_at', ['partner_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_partner_id_created_at')

    op.drop_table('feedback')
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_changes_partner_id_created_at')

    op.drop_table('stage_changes')
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_index('ix_interactions_partner_id_happened_on')

    op.drop_table('interactions')
