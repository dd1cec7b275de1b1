"""Every SMS the site writes is in the GSM-7 alphabet, in one segment where it can; `flask sms send` says what a
campaign costs and refuses more than SMS_MAX_SEGMENTS segments unless told otherwise."""

import gsm0338  # noqa: F401 (the codec checks our texts independently of the code under test)
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.newsletter import sms as newsletter_sms
from app.sms.models import SmsMessage
from app.sms.segments import segments
from tests.support.newsletter import subscribe
from tests.test_sms_sending import twilio_app as twilio_app  # noqa: F401 (the fixture)

CODE = "123456"


def septets(text: str) -> int:
    """The text's length in GSM-7 septets (an error if a character is not in the alphabet)."""
    return len(text.encode("gsm03.38"))


def site_texts() -> dict[str, str]:
    """Every SMS text the site writes, in each language it writes it in."""
    texts = {"stop": newsletter_sms.STOP_REPLY, "start": newsletter_sms.START_REPLY,
             "campaign": newsletter_sms.marketing_text("x")}
    for language in ("fr", "en"):
        texts[f"code-{language}"] = newsletter_sms.code_text(language, CODE)
        with force_locale(language):
            texts[f"help-{language}"] = newsletter_sms.help_reply()
    return texts


def test_every_sms_the_site_writes_is_gsm7_and_one_segment(twilio_app):
    for name, text in site_texts().items():
        assert septets(text) <= 160, f"{name}: {len(text)} septets is more than one segment"
        assert segments(text).encoding == "GSM-7" and segments(text).count == 1, name


def test_the_code_sms_queued_by_the_form_is_gsm7_and_one_segment(client):
    subscribe(client, "g@example.com", ["evenements"], phone="06 12 34 56 78")
    body = db.session.scalar(sa.select(SmsMessage.body))
    assert septets(body) <= 160 and "K-Inventory : votre code" in body


@pytest.mark.parametrize(("text", "encoding", "count"), [
    ("a" * 160, "GSM-7", 1), ("a" * 161, "GSM-7", 2), ("a" * 306, "GSM-7", 2), ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1), ("€" * 81, "GSM-7", 2), ("’" * 70, "UCS-2", 1), ("’" + "a" * 70, "UCS-2", 2),
    ("é è ù à É Ç", "GSM-7", 1), ("\u00a0", "UCS-2", 1)])
def test_segments_follow_3gpp_23_038(text, encoding, count):
    cost = segments(text)
    assert (cost.encoding, cost.count) == (encoding, count)


def campaign_file(tmp_path, text: str) -> str:
    """A campaign text on disk, as an operator writes it."""
    path = tmp_path / "sms.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_flask_sms_send_prints_the_encoding_and_segments_before_queueing(twilio_app, tmp_path):
    result = twilio_app.test_cli_runner().invoke(args=["sms", "send", "--list", "evenements", "--text",
                                                       campaign_file(tmp_path, "Salon de Lyon le 12 : venez.")])
    assert result.exit_code == 0, result.output
    assert "Each SMS as sent: GSM-7, " in result.output and "1 segment" in result.output


def test_flask_sms_send_refuses_more_segments_than_allowed_unless_told(twilio_app, tmp_path):
    long_text = "Salon de Lyon : l’équipe vous attend. " * 4  # a ’ makes it UCS-2
    runner = twilio_app.test_cli_runner()
    refused = runner.invoke(args=["sms", "send", "--list", "evenements", "--text", campaign_file(tmp_path, long_text)])
    assert refused.exit_code != 0 and "UCS-2" in refused.output and "'’'" in refused.output
    assert "more than 2" in refused.output and "--max-segments" in refused.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 0
    sent = runner.invoke(args=["sms", "send", "--list", "evenements", "--max-segments", "4", "--text",
                               campaign_file(tmp_path, long_text)])
    assert sent.exit_code == 0 and "3 segments" in sent.output


def test_the_segment_limit_is_a_setting(twilio_app, tmp_path):
    twilio_app.config["SMS_MAX_SEGMENTS"] = 1
    result = twilio_app.test_cli_runner().invoke(args=["sms", "send", "--list", "evenements", "--text",
                                                       campaign_file(tmp_path, "a" * 150)])
    assert result.exit_code != 0 and "2 segments per SMS is more than 1" in result.output
