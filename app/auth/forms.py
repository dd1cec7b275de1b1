"""The staff login form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("Adresse e-mail"), validators=[InputRequired(_l("Indiquez votre adresse e-mail."))])
    password = PasswordField(_l("Mot de passe"), validators=[InputRequired(_l("Indiquez votre mot de passe."))])


class LogoutForm(FlaskForm):
    """The logout button: the CSRF token only."""
