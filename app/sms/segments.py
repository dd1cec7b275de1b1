"""What an SMS costs: its alphabet (GSM-7 when every character is in GSM 03.38, else UCS-2) and its segment count.

The characters come from the `gsm0338` codec (an extension character such as « € » takes two septets); the
segment sizes are those of 3GPP TS 23.038 with a concatenation header: 160 or 153 septets, 70 or 67 UCS-2 units.
"""

from dataclasses import dataclass

import gsm0338  # noqa: F401 (registers the « gsm03.38 » codec)

GSM7, UCS2 = "GSM-7", "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
PART = {GSM7: 153, UCS2: 67}
# French typography in our texts, given the nearest GSM-7 character (the SMS alphabet has neither).
TYPOGRAPHY = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2019": "'", "\u2018": "'", "«": '"', "»": '"',
                            "\u2026": "...", "\u2013": "-", "\u2014": "-", "œ": "oe", "ê": "e", "â": "a",
                            "î": "i", "ô": "o", "û": "u", "ç": "c", "ë": "e", "ï": "i", "È": "E",
                            "À": "A"})


@dataclass(frozen=True)
class Segments:
    """A text's alphabet, its length in that alphabet's units, and how many SMS it is billed as."""

    encoding: str
    units: int
    count: int

    def line(self) -> str:
        """One line for the operator."""
        return f"{self.encoding}, {self.units} characters, {self.count} segment{'s' if self.count > 1 else ''}"


def units(text: str) -> tuple[str, int]:
    """The alphabet a text goes out in and its length in septets (GSM-7) or 16-bit units (UCS-2)."""
    try:
        return GSM7, len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        return UCS2, len(text.encode("utf-16-be")) // 2


def segments(text: str) -> Segments:
    """How an SMS of this text is sent and billed."""
    encoding, length = units(text)
    count = 1 if length <= SINGLE[encoding] else -(-length // PART[encoding])
    return Segments(encoding, length, count)


def outside_gsm7(text: str) -> str:
    """The characters of a text that GSM-7 has not (each once, in order): they make the whole SMS UCS-2."""
    found = ""
    for character in text:
        if character not in found and units(character)[0] == UCS2:
            found += character
    return found


def sms_alphabet(text: str) -> str:
    """The text with French typography replaced by GSM-7 characters (« : » and quotes included)."""
    return text.translate(TYPOGRAPHY)
