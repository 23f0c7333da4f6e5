"""Admin: products, price tiers and tier assignment (being written)."""
from flask import Blueprint

bp = Blueprint("catalog_admin", __name__, url_prefix="/admin/catalog")
