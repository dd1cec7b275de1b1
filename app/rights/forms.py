"""The contact form where people exercise their rights."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, StringField, TelField, TextAreaField, ValidationError
from wtforms.validators import Email, InputRequired, Length, Optional

from app.forms import PublicForm
from app.personal import normalise_phone, normalise_postal_address
from app.rights.labels import KIND_LABELS
from app.rights.models import Kind

MESSAGE_MAX = 5000


def one_line(_form, field) -> None:
    """A name holds no line break (CR, LF or any other): it could otherwise start a new line in a mail header."""
    if field.data and "".join(field.data.splitlines()) != field.data:
        raise ValidationError(_l("Écrivez le nom sur une seule ligne, sans retour à la ligne."))


def kind_choices() -> list[tuple[str, str]]:
    """Every request type, named in the page's language."""
    return list(KIND_LABELS.items())


class ContactForm(PublicForm):
    """Who writes, what they ask, and what that type of request needs."""

    name = StringField(_l("Nom et prénom"), validators=[
        InputRequired(_l("Indiquez votre nom.")), Length(max=200, message=_l("Ce nom est trop long.")), one_line])
    email = EmailField(_l("Adresse e-mail"), validators=[
        InputRequired(_l("Indiquez votre adresse e-mail.")),
        Length(max=254, message=_l("Cette adresse est trop longue.")),
        Email(_l("Cette adresse e-mail n’est pas valide (exemple\u00a0: nom@exemple.fr)."), granular_message=False)])
    phone = TelField(_l("Téléphone (facultatif, si votre demande concerne aussi nos SMS ou nos appels)"), validators=[
        Optional(), Length(max=30, message=_l("Ce numéro est trop long."))])
    postal_address = TextAreaField(
        _l("Adresse postale (facultatif, pour ne plus recevoir de courrier de notre part)"),
        validators=[Optional(), Length(max=300, message=_l("Cette adresse est trop longue."))])
    kind = RadioField(_l("Votre demande"), choices=kind_choices, validators=[
        InputRequired(_l("Choisissez le type de votre demande."))], validate_choice=False)
    message = TextAreaField(_l("Votre message"), validators=[
        InputRequired(_l("Écrivez votre demande.")),
        Length(max=MESSAGE_MAX, message=_l("Votre message dépasse %(max)d caractères.", max=MESSAGE_MAX))])
    correction = TextAreaField(_l("Ce qu’il faut corriger (pour une rectification)"), validators=[
        Length(max=2000, message=_l("Ce texte est trop long."))])
    designated_name = StringField(_l("Personne désignée (pour des directives post-mortem)"), validators=[
        Length(max=200, message=_l("Ce nom est trop long.")), one_line])
    designated_contact = StringField(_l("Comment la joindre (e-mail ou adresse)"), validators=[
        Length(max=320, message=_l("Ce contact est trop long."))])
    website = StringField(_l("Ne remplissez pas ce champ"))

    def validate_kind(self, field) -> None:
        """One of the listed types."""
        if field.data not in KIND_LABELS:
            raise ValidationError(_l("Choisissez le type de votre demande."))

    def validate_phone(self, field) -> None:
        """A number we can recognise."""
        if field.data and not normalise_phone(field.data):
            raise ValidationError(_l("Ce numéro de téléphone n’est pas valide (exemple\u00a0: 06 12 34 56 78)."))

    def validate_postal_address(self, field) -> None:
        """An address with its postcode."""
        if field.data and not normalise_postal_address(field.data):
            raise ValidationError(_l("Il manque le code postal à cette adresse (exemple\u00a0: 12 rue de la Paix, "
                                     "75002 Paris)."))

    def validate_correction(self, field) -> None:
        """A rectification says what to correct."""
        if self.kind.data == Kind.RECTIFICATION and not (field.data or "").strip():
            raise ValidationError(_l("Indiquez ce qu’il faut corriger et la bonne valeur."))

    def validate_designated_name(self, field) -> None:
        """Post-mortem directives name the person who will carry them out."""
        if self.kind.data == Kind.POST_MORTEM and not (field.data or "").strip():
            raise ValidationError(_l("Indiquez la personne que vous désignez."))

    def validate_designated_contact(self, field) -> None:
        """…and how to reach them."""
        if self.kind.data == Kind.POST_MORTEM and not (field.data or "").strip():
            raise ValidationError(_l("Indiquez comment joindre la personne désignée."))

    def is_bot(self) -> bool:
        """People never see the honeypot field; robots fill it in."""
        return bool((self.website.data or "").strip())
