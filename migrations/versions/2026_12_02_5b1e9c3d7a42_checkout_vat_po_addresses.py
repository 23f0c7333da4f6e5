"""checkout: VAT rates and totals, PO references, delivery addresses

Revision ID: 5b1e9c3d7a42
Revises: dcb3d2d0e79a

Products and order lines get a VAT rate (percent; the Polish 23, 8, 5, 0), orders their VAT and
gross totals, the partner's purchase-order reference and a copy of the delivery address; partners
get delivery addresses (one default each). Existing products and order lines take the default
rate, 23 %, and every existing order's VAT is computed as checkout does (one rate, so the VAT of
the net total, ROUND_HALF_UP to 0.01), in whole grosze so SQLite's floats cannot round it wrong.
Create Date: 2026-12-02 14:54:57.660066
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5b1e9c3d7a42'
down_revision: str | Sequence[str] | None = 'dcb3d2d0e79a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_RATE = 23
# Net and VAT in grosze (integers): half a grosz and more rounds up.
_NET_CENTS = "CAST(ROUND(total * 100) AS BIGINT)"
_VAT_CENTS = f"(({_NET_CENTS} * {DEFAULT_RATE} + 50) / 100)"


def upgrade() -> None:
    op.create_table('delivery_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('street2', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_delivery_addresses_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_addresses'))
    )
    with op.batch_alter_table('delivery_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_addresses_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('uq_delivery_addresses_default', ['partner_id'], unique=True,
                              sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    # Add the columns nullable, fill them, then make them required.
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_rate', sa.Integer(), nullable=True))
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_rate', sa.Integer(), nullable=True))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('po_reference', sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column('delivery_address', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('vat_total', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('gross_total', sa.Numeric(precision=12, scale=2), nullable=True))

    op.execute(f"UPDATE products SET vat_rate = {DEFAULT_RATE}")
    op.execute(f"UPDATE order_lines SET vat_rate = {DEFAULT_RATE}")
    op.execute(f"UPDATE orders SET vat_total = {_VAT_CENTS} / 100.0, "
               f"gross_total = ({_NET_CENTS} + {_VAT_CENTS}) / 100.0")

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.alter_column('vat_rate', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(op.f('ck_products_vat_rate'), 'vat_rate IN (23, 8, 5, 0)')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.alter_column('vat_rate', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(op.f('ck_order_lines_vat_rate'), 'vat_rate >= 0 AND vat_rate <= 100')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column('vat_total', existing_type=sa.Numeric(precision=12, scale=2), nullable=False)
        batch_op.alter_column('gross_total', existing_type=sa.Numeric(precision=12, scale=2), nullable=False)
        batch_op.create_check_constraint(op.f('ck_orders_vat_total'), 'vat_total >= 0')


def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_products_vat_rate'), type_='check')
        batch_op.drop_column('vat_rate')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orders_vat_total'), type_='check')
        batch_op.drop_column('gross_total')
        batch_op.drop_column('vat_total')
        batch_op.drop_column('delivery_address')
        batch_op.drop_column('po_reference')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_lines_vat_rate'), type_='check')
        batch_op.drop_column('vat_rate')

    with op.batch_alter_table('delivery_addresses', schema=None) as batch_op:
        batch_op.drop_index('uq_delivery_addresses_default', sqlite_where=sa.text('is_default'),
                            postgresql_where=sa.text('is_default'))
        batch_op.drop_index(batch_op.f('ix_delivery_addresses_partner_id'))

    op.drop_table('delivery_addresses')
