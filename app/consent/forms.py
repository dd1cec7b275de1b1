"""The consent forms: the banner's buttons and the preferences page's toggles."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectMultipleField, StringField, ValidationError
from wtforms.validators import AnyOf, InputRequired

from app.forms import PublicForm

BANNER_CHOICES = ("accept_all", "refuse_all", "continue_without_accepting")
PREFERENCE_CHOICES = ("save", "accept_all", "refuse_all")


class BannerForm(PublicForm):
    """One of the banner's buttons: accept all, refuse all, continue without accepting."""

    choice = StringField(validators=[InputRequired(_l("Choisissez une option.")),
                                     AnyOf(BANNER_CHOICES, message=_l("Ce choix n’existe pas."))])
    next = HiddenField()


class PreferencesForm(PublicForm):
    """A toggle per optional category, and save / refuse all / accept all."""

    choice = StringField(default="save", validators=[
        InputRequired(_l("Choisissez une option.")), AnyOf(PREFERENCE_CHOICES, message=_l("Ce choix n’existe pas."))])
    categories = SelectMultipleField(validate_choice=False)
    next = HiddenField()

    def __init__(self, register, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories.choices = [(category.key, str(category.name)) for category in register.optional]

    def validate_categories(self, field) -> None:
        """Only the register's optional categories can be chosen."""
        known = {key for key, _label in field.choices}
        unknown = [value for value in field.data or [] if value not in known]
        if unknown:
            raise ValidationError(_("Catégorie inconnue\u00a0: %(names)s.", names=", ".join(unknown)))
