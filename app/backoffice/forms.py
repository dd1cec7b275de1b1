"""Back-office forms: one per action on a request."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, EmailField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from app.forms import Form
from app.personal import normalise_phone, normalise_postal_address


class ActionForm(Form):
    """An action with no field (package, opt out, restrict, directives): the CSRF token only."""


class ConfirmedForm(Form):
    """An action that cannot be undone: its page first says what will happen, then posts it again confirmed."""

    confirmed = HiddenField()


class EraseForm(ConfirmedForm):
    """Erasure: the button, then the confirmation."""


class NoteForm(Form):
    """An internal note."""

    text = TextAreaField(_l("Note interne"), validators=[InputRequired(_l("Écrivez la note.")), Length(max=5000)])


class RectifyForm(Form):
    """The corrected values; blank fields stay as they are."""

    name = StringField(_l("Nouveau nom"), validators=[Length(max=200)])
    email = EmailField(_l("Nouvelle adresse e-mail"), validators=[Length(max=254)])
    phone = StringField(_l("Nouveau numéro de téléphone"), validators=[Length(max=30)])

    def validate_phone(self, field) -> None:
        """A number no SMS could reach is refused here (the opt-out list only holds valid numbers)."""
        if field.data and field.data.strip() and not normalise_phone(field.data):
            raise ValidationError(_l("Ce numéro de téléphone n’est pas valide (exemple\u00a0: 06 12 34 56 78)."))


def extension_choices() -> list[tuple[str, str]]:
    """One or two months."""
    return [("1", _l("1 mois")), ("2", _l("2 mois"))]


class ExtendForm(Form):
    """One or two more months, with the reason the requester will read."""

    months = RadioField(_l("Prolonger de"), choices=extension_choices,
                        validators=[InputRequired(_l("Choisissez la durée."))])
    reason = TextAreaField(_l("Motif (envoyé au demandeur)"), validators=[
        InputRequired(_l("Indiquez le motif de la prolongation.")), Length(max=2000)])


class RefuseForm(ConfirmedForm):
    """Why the request is manifestly unfounded or excessive (sent to the requester with the CNIL mention)."""

    reason = TextAreaField(_l("Motif du refus (envoyé au demandeur)"), validators=[
        InputRequired(_l("Indiquez le motif du refus.")), Length(max=4000)])


class OverrideForm(Form):
    """Why the request may close without every connected system's answer (kept in the request's log)."""

    reason = TextAreaField(_l("Motif (conservé dans l’historique)"), validators=[
        InputRequired(_l("Indiquez pourquoi la demande peut être close sans ces réponses.")), Length(max=2000)])


class AnswerForm(Form):
    """The answer that closes the request."""

    text = TextAreaField(_l("Réponse (envoyée au demandeur)"), validators=[
        InputRequired(_l("Écrivez la réponse.")), Length(max=10000)])


def contact_channel_choices() -> list[tuple[str, str]]:
    """The opt-out list's call and post channels."""
    return [("call", _l("appeler ce numéro")), ("post", _l("écrire à cette adresse"))]


class ContactOptOutForm(Form):
    """A call (phone number) or post (postal address) opt-out entered by staff."""

    channel = RadioField(_l("Ne plus"), choices=contact_channel_choices, default="call",
                         validators=[InputRequired(_l("Choisissez appel ou courrier."))])
    identifier = TextAreaField(_l("Numéro de téléphone ou adresse postale"), validators=[
        InputRequired(_l("Écrivez le numéro ou l’adresse.")), Length(max=300)])

    def validate_identifier(self, field) -> None:
        """A valid number for a call, an address with its postcode for post."""
        if self.channel.data == "call" and not normalise_phone(field.data or ""):
            raise ValidationError(_l("Ce numéro de téléphone n’est pas valide (exemple\u00a0: 06 12 34 56 78)."))
        if self.channel.data == "post" and not normalise_postal_address(field.data or ""):
            raise ValidationError(_l("Il manque le code postal à cette adresse (exemple\u00a0: 12 rue de la Paix, "
                                     "75002 Paris)."))


class PolicyForm(Form):
    """A new version of the policy: each text pasted or uploaded, a summary, material or not."""

    text_fr = TextAreaField(_l("Texte français (celui qui fait foi)"), validators=[Length(max=60_000)])
    file_fr = FileField(_l("ou fichier du texte français (.txt, UTF-8)"))
    text_en = TextAreaField(_l("Traduction anglaise (facultative)"), validators=[Length(max=60_000)])
    file_en = FileField(_l("ou fichier de la traduction anglaise (.txt, UTF-8)"))
    summary = StringField(_l("Résumé des modifications, en français"), validators=[
        InputRequired(_l("Résumez les modifications\u00a0: les visiteurs le lisent dans l’historique.")),
        Length(max=500)])
    material = BooleanField(_l("Modification substantielle\u00a0: prévenir par e-mail les abonnés confirmés"))

    def validate_file_fr(self, field) -> None:
        """An uploaded text replaces the pasted one, once read as UTF-8."""
        self.take_upload(field, self.text_fr)

    def validate_file_en(self, field) -> None:
        """An uploaded translation replaces the pasted one, once read as UTF-8."""
        self.take_upload(field, self.text_en)

    @staticmethod
    def take_upload(field, text) -> None:
        """Put an uploaded file's text in its text area (so the preview shows it and a publication posts it)."""
        if not isinstance(field.data, FileStorage) or not field.data.filename:
            return
        try:
            text.data = field.data.read().decode("utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError as error:
            raise ValidationError(_l("Ce fichier n’est pas un texte en UTF-8\u00a0: enregistrez-le en UTF-8 ou "
                                     "collez le texte.")) from error
