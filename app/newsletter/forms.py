"""Newsletter forms: subscribe, ask for a fresh link, the preference centre, the one-button pages."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, TelField, ValidationError
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import PublicForm
from app.newsletter.lists import LISTS
from app.personal import normalise_phone
from app.sms.numbers import textable


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes, none ticked by default."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def list_choices() -> list[tuple[str, str]]:
    """The lists, named in the page's language."""
    return [(slug, name) for slug, name in LISTS.items()]


class EmailOnly(PublicForm):
    """An e-mail address field, checked the same way everywhere."""

    email = EmailField(_l("Adresse e-mail"), validators=[
        InputRequired(_l("Indiquez votre adresse e-mail.")),
        Length(max=254, message=_l("Cette adresse est trop longue.")),
        Email(_l("Cette adresse e-mail n’est pas valide (exemple\u00a0: nom@exemple.fr)."), granular_message=False),
    ])


class SubscribeForm(EmailOnly):
    """E-mail, optional mobile number, the lists, and an unticked consent box."""

    phone = TelField(_l("Téléphone mobile (facultatif, pour recevoir nos SMS)"), validators=[
        Optional(), Length(max=30, message=_l("Ce numéro est trop long."))])
    lists = CheckboxesField(_l("Listes"), choices=list_choices, validate_choice=False)
    consent = BooleanField(_l("J’accepte de recevoir les listes cochées par e-mail, et par SMS si j’ai donné mon "
                              "numéro. Je peux me désabonner à tout moment."), default=False)

    def validate_phone(self, field) -> None:
        """A valid number, and a mobile of a country we text (never a premium-rate, shared-cost or free line)."""
        if not field.data:
            return
        number = normalise_phone(field.data)
        if not number:
            raise ValidationError(_l("Ce numéro de téléphone n’est pas valide (exemple\u00a0: 06 12 34 56 78)."))
        if not textable(number):
            raise ValidationError(_l("Nous n’envoyons de SMS qu’aux numéros de mobile de France métropolitaine et "
                                     "d’outre-mer\u00a0: indiquez un tel numéro, ou laissez ce champ vide."))

    def validate_lists(self, field) -> None:
        """At least one of our lists."""
        chosen = [slug for slug in field.data or [] if slug in LISTS]
        if not chosen or len(chosen) != len(field.data):
            raise ValidationError(_l("Choisissez au moins une liste."))

    def validate_consent(self, field) -> None:
        """Consent is a box the visitor ticks themselves."""
        if not field.data:
            raise ValidationError(_l("Cochez la case pour donner votre accord."))


class LinkForm(EmailOnly):
    """Someone who lost our e-mails asks for a fresh link."""


class ButtonForm(PublicForm):
    """A page with one button (confirm, resubscribe): only the CSRF token."""


class PreferencesForm(PublicForm):
    """The preference centre: e-mail on/off, a toggle per list, SMS on/off and the number."""

    email_on = BooleanField(_l("Recevoir des e-mails"))
    lists = CheckboxesField(_l("Listes"), choices=list_choices, validate_choice=False)
    sms_on = BooleanField(_l("Recevoir des SMS"))
    phone = TelField(_l("Téléphone mobile"), validators=[
        Optional(), Length(max=30, message=_l("Ce numéro est trop long."))])

    validate_phone = SubscribeForm.validate_phone

    def validate_lists(self, field) -> None:
        """Only our lists."""
        if any(slug not in LISTS for slug in field.data or []):
            raise ValidationError(_l("Cette liste n’existe pas."))


class CodeForm(PublicForm):
    """The 6-digit code received by SMS."""

    code = StringField(_l("Code reçu par SMS"), validators=[
        InputRequired(_l("Indiquez le code à 6 chiffres reçu par SMS.")),
        Regexp(r"^\s*\d{6}\s*$", message=_l("Le code se compose de 6 chiffres."))])
