"""Which numbers the site texts: mobiles of SMS_COUNTRIES only, never a premium-rate, shared-cost or toll-free line."""

import phonenumbers
from flask import current_app
from phonenumbers import PhoneNumberType

TEXTABLE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def textable(number: str) -> bool:
    """Whether an E.164 number is a mobile of one of the countries in SMS_COUNTRIES."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return (phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in TEXTABLE_TYPES
            and phonenumbers.region_code_for_number(parsed) in current_app.config["SMS_COUNTRIES"])
