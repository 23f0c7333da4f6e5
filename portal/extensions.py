"""Extension instances, bound to the app in create_app()."""
from __future__ import annotations

from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from portal.web.limits import TrellisLimiter

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = TrellisLimiter(key_func=get_remote_address)
babel = Babel()
