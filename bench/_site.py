"""The site as bench/pages.py serves it under gunicorn: production code, rate limits off (one client address)."""

from app import create_app
from app.config import config_for_environment

config = config_for_environment()
config.RATELIMIT_ENABLED = False
app = create_app(config)
