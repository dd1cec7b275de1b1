"""The staff login forms: password, then the second factor."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from app.forms import Form


class LoginForm(Form):
    """E-mail and password."""

    email = EmailField(_l("Adresse e-mail"), validators=[InputRequired(_l("Indiquez votre adresse e-mail.")),
                                                         Length(max=320)])
    password = PasswordField(_l("Mot de passe"), validators=[InputRequired(_l("Indiquez votre mot de passe.")),
                                                             Length(max=1000)])


class CodeForm(Form):
    """The six-digit code of the authenticator app, or a recovery code."""

    code = StringField(_l("Code à six chiffres (ou code de secours)"), validators=[
        InputRequired(_l("Indiquez le code affiché par votre application.")), Length(max=40)])


class LogoutForm(Form):
    """The logout button: the CSRF token only."""
