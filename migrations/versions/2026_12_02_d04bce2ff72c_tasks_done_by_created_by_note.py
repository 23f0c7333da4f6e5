"""tasks: who marked a task done, who added it by hand, and its note

Revision ID: d04bce2ff72c
Revises: aa588553c631

Done tasks are kept with who and when (done_at was there already); a manager can add a task by
hand, with a note.
Create Date: 2026-12-02 15:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd04bce2ff72c'
down_revision: str | Sequence[str] | None = 'aa588553c631'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_tasks_done_by_id_users'), 'users', ['done_by_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_tasks_created_by_id_users'), 'users', ['created_by_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_created_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_tasks_done_by_id_users'), type_='foreignkey')
        batch_op.drop_column('note')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('done_by_id')
