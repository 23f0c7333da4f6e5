"""partners.name_key: the company name as referrals compare it, indexed

Revision ID: 81e105f8ff0b
Revises: af24f556286c

Duplicate detection of referrals compared every partner's normalised name in Python on each
submission; the key is now stored with the name (portal.core.text.company_key) and indexed.
Existing partners get theirs here.
Create Date: 2026-12-03 12:10:41.118000
"""
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '81e105f8ff0b'
down_revision: str | Sequence[str] | None = 'af24f556286c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A frozen copy of portal.core.text.company_key as it was when this migration was written, so the
# migration keeps meaning what it meant if that function changes later.
_LEGAL_FORMS = (("sp", "z", "o", "o"), ("sp", "z", "oo"), ("spzoo",), ("s", "a"), ("sa",), ("sp", "j"),
                ("sp", "k"), ("s", "c"), ("ltd",), ("limited",), ("llc",), ("inc",), ("gmbh",),
                ("ag",), ("plc",), ("co",), ("and", "co"), ("bv",), ("srl",), ("sarl",))
_FOLD = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "&": " and "})


def company_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.casefold().translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = re.sub(r"[\W_]+", " ", text).split()
    stripped = True
    while stripped:
        stripped = False
        for form in _LEGAL_FORMS:
            if len(words) > len(form) and tuple(words[-len(form):]) == form:
                words, stripped = words[:-len(form)], True
    return " ".join(words)[:200]


def upgrade() -> None:
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_partners_name_key'), ['name_key'], unique=False)
    partners = sa.table('partners', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('name_key', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(partners.c.id, partners.c.name)).all()
    if rows:
        connection.execute(
            partners.update().where(partners.c.id == sa.bindparam('pid')).values(name_key=sa.bindparam('key')),
            [{'pid': row.id, 'key': company_key(row.name or '')} for row in rows])


def downgrade() -> None:
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partners_name_key'))
        batch_op.drop_column('name_key')
