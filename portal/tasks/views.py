"""Account managers' follow-up tasks (being written)."""
from flask import Blueprint

bp = Blueprint("tasks", __name__, url_prefix="/manage/tasks")
