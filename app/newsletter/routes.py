"""Newsletter views: the form, the signed-link pages (confirm, unsubscribe, resubscribe, preferences), SMS webhook."""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app.consent.services import current_consent_id
from app.extensions import csrf, limit_posts
from app.i18n import localized_route
from app.newsletter import bp, sms_budget
from app.newsletter import services as newsletter
from app.newsletter import sms as newsletter_sms
from app.newsletter.events import ACTION_LABELS, CHANNEL_LABELS, Source, source_label
from app.newsletter.forms import ButtonForm, CodeForm, LinkForm, PreferencesForm, SubscribeForm
from app.newsletter.links import manage_token, read_confirm_token, read_manage_token
from app.newsletter.lists import ALL_LISTS, list_name
from app.newsletter.models import CHANNEL_ON, ChannelStatus, ListStatus, Subscriber
from app.pagecache import cached_page
from app.personal import keyed_hash, normalise_phone, truncate_ip
from app.sms.services import record_status
from app.sms.twilio import classify, signature_valid, twiml
from app.tokens import NEWSLETTER_CONFIRM, InvalidLink

PROOF_KEY = "sms_proof"  # the session remembers which code the visitor was sent
TWIML = {"Content-Type": "text/xml; charset=utf-8"}


def ip_prefix() -> str | None:
    """The visitor's network, truncated (never the full address)."""
    return truncate_ip(request.remote_addr)


def here(endpoint: str, token: str) -> str:
    """A signed-link page's own address, keeping the `?lang=` it was opened with."""
    lang = request.args.get("lang")
    return url_for(endpoint, token=token, **({"lang": lang} if lang in ("fr", "en") else {}))


@localized_route(bp, "/newsletter", "/en/newsletter", methods=["GET", "POST"])
@limit_posts("10/minute")
@cached_page
def subscribe(lang: str):
    """The form; the answer is the same whether the address is known or not."""
    if request.method == "GET":
        return render_template("newsletter/subscribe.html", form=SubscribeForm(), link_form=LinkForm(formdata=None))
    wants_link = request.method == "POST" and request.form.get("form") == "link"
    form = SubscribeForm(formdata=None) if wants_link else SubscribeForm()
    link_form = LinkForm() if wants_link else LinkForm(formdata=None)
    if wants_link and link_form.validate_on_submit():
        newsletter.request_manage_link(link_form.email.data, ip_prefix())
        return redirect(url_for("newsletter.link_sent"), 303)
    if not wants_link and form.validate_on_submit() and not sms_paused_for(form):
        proof = newsletter.request_subscription(form.email.data, form.lists.data, phone=form.phone.data or None,
                                                language=lang, client_address=request.remote_addr,
                                                consent_id=current_consent_id())
        if form.phone.data:  # the same next page whether a code went out or not
            return remember_proof(proof)
        return redirect(url_for("newsletter.check_inbox"), 303)
    return render_template("newsletter/subscribe.html", form=form, link_form=link_form), 400


def sms_paused_for(form: SubscribeForm) -> bool:
    """Whether the visitor gave a number while today's SMS budget is spent (the form then offers e-mail alone)."""
    if not form.phone.data or not sms_budget.paused():
        return False
    form.phone.errors.append(_("La vérification des numéros par SMS est suspendue pour aujourd’hui : videz ce "
                               "champ pour vous inscrire par e-mail, vous pourrez ajouter votre numéro plus tard "
                               "depuis vos préférences."))
    return True


def remember_proof(proof_id: str | None):
    """Keep the code's id in the session and go to the page where it is typed."""
    session[PROOF_KEY] = proof_id or ""
    return redirect(url_for("newsletter.sms_code"), 303)


@localized_route(bp, "/newsletter/code-sms", "/en/newsletter/sms-code", methods=["GET", "POST"])
@limit_posts("10/minute")
def sms_code(lang: str):
    """Type the 6-digit code received by SMS: it proves the number (5 tries, 10 minutes)."""
    form = CodeForm()
    if form.validate_on_submit():
        result = newsletter_sms.check_code(session.get(PROOF_KEY), form.code.data, ip_prefix())
        if result == newsletter_sms.CodeCheck.PROVEN:
            session.pop(PROOF_KEY, None)
            return render_template("newsletter/sms_proven.html")
        form.code.errors.append(_("Ce code n’est pas le bon\u00a0: vérifiez-le et réessayez.")
                                if result == newsletter_sms.CodeCheck.WRONG else
                                _("Ce code n’est plus valable (10\u00a0minutes, 5\u00a0essais)\u00a0: "
                                  "recommencez depuis le formulaire pour en recevoir un nouveau."))
    return render_template("newsletter/sms_code.html", form=form), 400 if form.errors else 200


@localized_route(bp, "/newsletter/verifiez-vos-e-mails", "/en/newsletter/check-your-email")
def check_inbox(lang: str):
    """After the form: look for our confirmation e-mail."""
    return render_template("newsletter/check_inbox.html")


@localized_route(bp, "/newsletter/lien-envoye", "/en/newsletter/link-sent")
def link_sent(lang: str):
    """After asking for a fresh link."""
    return render_template("newsletter/link_sent.html")


@bp.route("/newsletter/confirmer/<token>", methods=["GET", "POST"])
@limit_posts("30/minute")
def confirm(token: str):
    """GET shows a button (link scanners confirm nothing); POST confirms."""
    subscriber = newsletter.find_by_public_id(read_confirm_token(token))
    if subscriber is None:
        raise InvalidLink(NEWSLETTER_CONFIRM, "no such subscriber")
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            result = newsletter.confirm(subscriber, ip_prefix())
        except newsletter.SubscriptionRestricted:
            return render_template("newsletter/restricted.html"), 409
        return render_template("newsletter/confirmed.html", result=result, subscriber=subscriber,
                               list_name=list_name, preferences_token=manage_token_for(subscriber))
    return render_template("newsletter/confirm.html", form=form, action=here("newsletter.confirm", token),
                           lists=[list_name(s) for s in subscriber.slugs_with(ListStatus.PENDING)],
                           sms_pending=subscriber.sms_status == ChannelStatus.PENDING or bool(subscriber.pending_phone),
                           preferences_token=manage_token_for(subscriber))


def manage_token_for(subscriber: Subscriber) -> str:
    """A manage token for every list (links from pages)."""
    return manage_token(subscriber.public_id, ALL_LISTS)


def managed(token: str) -> tuple[Subscriber | None, str, list[str]]:
    """The subscriber and list a manage link names, with the list's name for the page (none for every list)."""
    public_id, slug = read_manage_token(token)
    return newsletter.find_by_public_id(public_id), slug, [list_name(slug)] if slug != ALL_LISTS else []


@bp.route("/newsletter/desabonnement/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """GET changes nothing; POST (RFC 8058 one-click or the page's button) unsubscribes at once, answers 200."""
    subscriber, slug, names = managed(token)
    page = {"names": names, "token": token}
    if request.method != "POST":  # GET and HEAD (link scanners) change nothing
        return render_template("newsletter/unsubscribe.html", action=here("newsletter.unsubscribe", token), **page)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    newsletter.unsubscribe(subscriber, slug, Source.ONE_CLICK if one_click else Source.UNSUBSCRIBE_PAGE, ip_prefix())
    return render_template("newsletter/unsubscribed.html", **page), 200


@bp.route("/newsletter/reabonnement/<token>", methods=["GET", "POST"])
@limit_posts("10/minute")
def resubscribe(token: str):
    """Come back to a list after leaving it: a new double opt-in by e-mail."""
    subscriber, slug, names = managed(token)
    if subscriber is None:
        return redirect(url_for("newsletter.subscribe"), 303)
    form = ButtonForm()
    if form.validate_on_submit():
        newsletter.resubscribe(subscriber, slug, ip_prefix())
        return redirect(url_for("newsletter.check_inbox"), 303)
    return render_template("newsletter/resubscribe.html", form=form, names=names,
                           action=here("newsletter.resubscribe", token))


@bp.route("/newsletter/preferences/<token>", methods=["GET", "POST"])
@limit_posts("30/minute")
def preferences(token: str):
    """Toggles per list and channel, « Me désabonner de tout », and the history of the person's consents."""
    subscriber, _slug, _names = managed(token)
    if subscriber is None:
        return render_template("newsletter/gone.html"), 404
    form = PreferencesForm()
    if request.method == "GET":
        fill_preferences(form, subscriber)
    elif form.validate_on_submit():
        proof = save_preferences(form, subscriber)
        if proof:
            return remember_proof(proof)
        return redirect(here("newsletter.preferences", token), 303)
    return render_template("newsletter/preferences.html", form=form, subscriber=subscriber, token=token,
                           history=newsletter.history(subscriber), action=here("newsletter.preferences", token),
                           list_name=list_name, action_labels=ACTION_LABELS, source_label=source_label,
                           channel_labels=CHANNEL_LABELS, restricted=newsletter.is_restricted(subscriber),
                           sms_state=newsletter_sms.sms_state(subscriber)), 400 if form.errors else 200


def fill_preferences(form: PreferencesForm, subscriber: Subscriber) -> None:
    """The toggles as they stand (a list waiting for confirmation shows ticked)."""
    form.email_on.data = subscriber.email_status in CHANNEL_ON
    form.lists.data = subscriber.slugs_with(ListStatus.ACTIVE) + subscriber.slugs_with(ListStatus.PENDING)
    form.sms_on.data = subscriber.sms_status in CHANNEL_ON
    form.phone.data = subscriber.phone


def save_preferences(form: PreferencesForm, subscriber: Subscriber) -> str | None:
    """Apply the toggles or « Me désabonner de tout », then say what happened; the id of a code sent by SMS."""
    if request.form.get("action") == "everything":
        newsletter.unsubscribe_everything(subscriber, Source.PREFERENCE_CENTRE, ip_prefix())
        flash(_("Vous êtes désabonné de tout\u00a0: vous ne recevrez plus ni e-mail ni SMS de notre part."),
              "success")
        return None
    mailed, proof = newsletter.update_preferences(
        subscriber, email_on=form.email_on.data, lists=form.lists.data or [], sms_on=form.sms_on.data,
        phone=form.phone.data or None, client_address=request.remote_addr)
    flash(_("Vos préférences sont enregistrées."), "success")
    if form.sms_on.data and form.phone.data and proof is None and sms_budget.paused():
        flash(_("La vérification des numéros par SMS est suspendue pour aujourd’hui\u00a0: enregistrez votre numéro "
                "demain pour recevoir le code."), "warning")
    if mailed:
        flash(_("Pour ce que vous venez d’activer, confirmez avec le lien que nous venons de vous envoyer par e-mail."),
              "warning")
    return proof


def require_twilio_signature() -> None:
    """403 unless twilio's RequestValidator accepts the request as signed for SITE_URL + path and query."""
    url = current_app.config["SITE_URL"] + request.script_root + request.full_path.rstrip("?")
    # A JSON body is signed through its hash in the URL (bodySHA256): the validator then wants the body itself.
    params = request.get_data(as_text=True) if "bodySHA256" in request.args else request.form
    if not signature_valid(current_app.config["SMS_WEBHOOK_SECRET"], url, params, request.headers):
        current_app.logger.warning("SMS webhook: missing or wrong signature, request ignored")
        abort(403)


@bp.post("/webhooks/sms")
@csrf.exempt
def sms_webhook():
    """Inbound SMS from Twilio: signed, acted on once per MessageSid; STOP, START and HELP; TwiML answer."""
    require_twilio_signature()
    phone, body = normalise_phone(request.form.get("From", "")), request.form.get("Body", "")
    opt_out_type = request.form.get("OptOutType")
    kind, sid = classify(body, opt_out_type), request.form.get("MessageSid", "")
    if phone and sid:
        reply = newsletter_sms.handle_inbound(sid, phone, kind)
        if reply and not opt_out_type:  # with OptOutType, Twilio's Advanced Opt-Out answers itself
            return twiml(reply), 200, TWIML
    sender = keyed_hash(phone)[:12] if phone else "unknown"
    current_app.logger.info("SMS webhook: %s from number #%s", kind or "message without keyword", sender)
    return twiml(), 200, TWIML


@bp.post("/webhooks/sms/status")
@csrf.exempt
def sms_status():
    """Twilio's delivery receipts (signed): delivered or failed recorded on the SMS outbox row."""
    require_twilio_signature()
    record_status(request.form.get("MessageSid", ""), request.form.get("MessageStatus", ""),
                  request.form.get("ErrorCode") or None)
    return "", 204
