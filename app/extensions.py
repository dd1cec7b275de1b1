"""The Flask extensions, created bare here and bound to the app in the factory."""

from functools import wraps

import sqlalchemy as sa
from flask import request
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose constraint names are stable on SQLite and PostgreSQL."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
babel = Babel()
cache = Cache()
csrf = CSRFProtect()
login = LoginManager()
limiter = Limiter(key_func=get_remote_address)


def limit_posts(limit_value: str):
    """Rate-limit a page's form posts (`limiter.limit(…, methods=["POST"])`); its GETs skip the limiter entirely,
    where Flask-Limiter would work out, on every page view, that no limit applies."""

    def decorator(view):
        limited = limiter.limit(limit_value, methods=["POST"])(view)

        @wraps(view)
        def dispatch(*args, **kwargs):
            return (limited if request.method == "POST" else view)(*args, **kwargs)

        return dispatch

    return decorator
