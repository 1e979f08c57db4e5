"""Finding personal data in what customers write, and masking it before it is stored where it does
not belong: the unanswered-questions list, logs, the knowledge index, public replies, and Rasa, which
keeps every message it is sent in its tracker store.

Masks keep the kind of data ("[card]", "[email]") so a knowledge manager still reads what was asked.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Starting only where a run of such characters starts: from every point inside one, a long run with
# no "@" was read to its end again.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
# Typed in lower case an IBAN could be ordinary words, so its check digits must also add up (ISO
# 13616: the number mod 97 is 1); after the bank's code every group holds a digit, so a word that
# follows never joins it.
IBAN_TYPED = re.compile(
    r"\b[a-zA-Z]{2}[0-9]{2}[ ]?[a-zA-Z0-9]{4}(?:[ ]?(?=[a-zA-Z]*[0-9])[a-zA-Z0-9]{4}){1,6}(?:[ ]?[0-9]{1,3})?\b"
)
# 13 to 19 digits, optionally grouped by spaces or dashes: a payment card if the Luhn check passes.
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
PHONE = re.compile(r"(?<![\w/])(?:\+|00)?\d(?:[ ().-]?\d){7,14}(?!\w)")
# "order 48213", "order no. KS-220917", "my order is 55123401": the number after the word.
_NUMBERED = r"\s*(?:no\.?|number|nr\.?|#)?\s*(?:(?:is|was)\s+)?[:#]?\s*([A-Z0-9-]{5,})\b"
ORDER = re.compile(r"(?i)\border" + _NUMBERED)
ACCOUNT = re.compile(r"(?i)\b(?:account|acct|customer|invoice|ref(?:erence)?)" + _NUMBERED)
# Any other long run of digits is an identifier of some kind (tracking, account, membership).
LONG_NUMBER = re.compile(r"\b\d{8,}\b")
# Words that join a number to a noun in ordinary speech ("3 weeks on the way", "5 hours down the
# road", "3 In A Row"), and units ("1 TB Drive"): never in a street's name
# between its number and its kind.
_NOT_A_NAME = (
    r"(?!(?i:the|a|an|on|in|at|by|to|of|for|from|with|down|up|along|across|over|off|into|onto|my|your|our|"
    r"his|her|their|this|that|and|or|is|was|are|per|tb|gb|mb|kb|km|hours?|minutes?|days?|"
    r"weeks?|months?|years?|times)\b)"
)
# A kind followed by these is a thing, not an address: "road bikes", "lane passes", "Drive licences".
_NOT_A_PLACE = (
    r"(?!\s+(?i:trips?|bikes?|tests?|maps?|works|rage|passes|pass|highway|licen[cs]es?|storage|space|"
    r"folders?|files?|accounts?|shirts?)\b)"
)
# The number, then the name, then the kind: "221B Baker Street", "12 main st", "350 5th Ave". Kinds
# that are not also common words may follow a name typed in lower case. "St" is also a saint, so
# "2 green St Patrick's Day shirts" stays as written, and "12 Main St Apt 4" does not.
STREET = re.compile(
    r"(?i)\b\d{1,5}[a-z]?\s+(?:" + _NOT_A_NAME + r"[a-z0-9][\w'\u2019.-]*\s+){1,3}"
    r"(?:(?:street|road|rd|avenue|ave|lane|ln|boulevard|blvd|highway|hwy|parkway|pkwy|straat|strasse|straße|laan)"
    r"\.?(?!\w)|st\.?(?!\w)(?!\s+[a-z]\w*['\u2019]s\b))" + _NOT_A_PLACE + r"(?-i:\s+(?:NW|NE|SW|SE)\b)?"
)
# Kinds that are also common words ("the way", "first place", "too close") need a capitalised name:
# "10 Downing Way", "4 Privet Drive", "7 Eccles Close"; and "12 The Avenue".
STREET_CAPITALISED = re.compile(
    r"\b\d{1,5}[a-zA-Z]?\s+(?:(?:" + _NOT_A_NAME + r"[A-Z][\w'\u2019.-]*\s+){1,3}"
    r"(?:Way|Drive|Dr|Place|Pl|Close|Court|Ct|Square|Sq|Terrace|Crescent|Grove|Gardens|Mews|Row|Walk)\.?(?!\w)"
    + _NOT_A_PLACE
    + r"|The\s+(?:Avenue|Drive|Close|Court|Crescent|Gardens|Grove|Green|Lane|Mall|Mews|Parade|Place|Row|Square|"
    r"Strand|Terrace|Walk|Way)\b)"
)
# The street's name first, its kind at the end of it, then the number: "Hauptstraße 5",
# "Karl-Marx-Str. 3", "Kerkstraat 12a"; or in two words, "Berliner Straße 12", "Lange Str. 5". It
# starts where a hyphenated name starts, never inside one ("Dr.-Otto-Nuschke-Straße 5" at "Otto"),
# or a long chain of them takes a while.
STREET_SUFFIXED = re.compile(
    r"(?<![^\W\d_]-)\b(?:[A-Za-zÄÖÜäöü][a-zäöüß]+(?:-[A-Za-zÄÖÜäöüß]+)*-?"
    r"(?i:straße|strasse|str\.|straat|gasse|weg|allee|platz|laan|plein|gracht|damm)"
    r"|[A-ZÄÖÜ][a-zäöüß]+e[rns]?\s+(?:Straße|Strasse|Str\.|Allee|Gasse|Damm|Chaussee))"
    r",?\s+\d{1,5}[a-zA-Z]?\b"
)
# The kind first, then the name, then the number, which must end the address ("Via Roma 10, Milano"),
# so that "Via WhatsApp 3 times" stays as written: "Calle Mayor 5", "Via della Spiga 12", "Rue de
# Rivoli 5", "C/ Mayor 5", "Av. da Liberdade 110". Kinds that are not English words may be typed in
# lower case, with the name; "Via" and "Plaza" need a capitalised name. A number before the kind
# makes it the French order, "12 rue de la Paix, 75002 Paris", whose postcode is not a house number.
_PARTICLES = r"(?:(?:de|del|la|las|los|da|do|dos|das|della|delle|dei|di|du|des|le)\s+|[ld]['\u2019]){0,3}"
_ADDRESS_ENDS = r",?\s+\d{1,5}[a-zA-Z]?\b(?=\s*$|\s*[,.;:!?)\n]|\s+[A-Z0-9])"
_NAME = _PARTICLES + r"[^\W\d_][\w'\u2019-]*"
STREET_PREFIXED = re.compile(
    r"(?:\b(?i:calle|carrer|avenida|paseo|viale|piazza|corso|rua|travessa|praça)\s+|(?<!\d\s)(?<!\d,\s)\b(?i:rue)\s+"
    r"|\b(?:Avda\.|Av\.|P\.zza)\s*|\b[Cc]/\s*)"
    + _NAME
    + r"(?:\s+"
    + _NAME
    + r"){0,2}"
    + _ADDRESS_ENDS
    + r"|\b(?:Via|Plaza)(?:\s+"
    + _PARTICLES
    + r"[A-ZÁÉÍÓÚ][\w'\u2019-]*){1,3}"
    + _ADDRESS_ENDS
)
# French: "12 rue de la Paix", "3 rue de l'Église", "5, place d'Italie", "12 rue de la paix". A name
# of two letters or more, capitalised after the kinds that are English words too, so "1 place I can
# go", "2 place settings" and "2 boulevard locations" stay as written.
STREET_FRENCH = re.compile(
    r"\b\d{1,5}(?:\s?(?:bis|ter))?,?\s+(?:(?i:rue|chemin|allée|quai)"
    r"(?:[ \t]+(?:de|du|des|la|le))*[ \t]+(?:[ld]['\u2019])?[^\W\d_][\w'\u2019-]+(?:[ \t][^\W\d_][\w'\u2019-]+)?"
    r"|(?i:avenue|place|boulevard|impasse)"
    r"(?:\s+(?:de|du|des|la|le))*\s+(?:[ld]['\u2019])?[A-ZÉÈ][\w'\u2019-]+(?:\s[A-ZÉÈ][\w'\u2019-]+)*)"
)

# Post boxes: "PO Box 1234", "Postfach 10 12 34", "Apartado de Correos 45", "Postbus 1234".
PO_BOX = re.compile(
    r"(?i)\b(?:p\.?\s?o\.?\s?box|post\s+office\s+box|postfach|postbus|apartado\s+(?:de\s+correos|postal)|"
    r"casella\s+postale|caixa\s+postal|bo[iî]te\s+postale)\s*(?:no\.?\s*)?\d{1,6}(?:\s\d{2,3})*\b"
)
# A postcode alone is mostly ordinary digits ("10115", "2000 Euro"), so it is taken where it cannot be
# anything else: after the word for it, after a town and a US state's code, or right after an
# address and its town. Only the forms postcodes take: "94105", "94105-1234", "1100-053", "1012 AB",
# "SW1A 1AA".
_POSTCODE_FORMS = r"[1-9]\d{3}[ ]?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}|\d{4,5}(?:-\d{3,4})?"
# After the word for it, more forms are safe, in any case but the Dutch letters (so that "1010 in
# Wien" keeps its "in"): Canada "K1A 0B1", Ireland "D02 X285", Sweden "114 55", India "110001",
# Poland "00-950".
POSTCODE_NAMED = re.compile(
    r"\b(?:(?i:post\s?code|postal\s+code|zip(?:\s?code)?|code\s+postal|c[oó]digo\s+postal)|PLZ|(?i:plz)(?=\s*(?::|ist\b)))"
    r"\s*(?i:(?:is|ist|es|est)\b\s*)?(?:[:#]\s*)?"
    r"([1-9]\d{3}[ ]?[A-Z]{2}\b|(?i:[a-z]\d[a-z][ ]?\d[a-z]\d|[ac-fhknprtv-y]\d[\dw][ ]?[0-9ac-fhknprtv-y]{4}"
    r"|[a-z]{1,2}\d[a-z\d]?[ ]?\d[a-z]{2})\b|\d{3}[ ]\d{2}\b|\d{4,6}(?:-\d{3,4})?\b|\d{2}-\d{3}\b)"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|"
    "OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC"
)
# "Springfield, IL 62704", "McAllen TX 78501"; not "Hi, IN 46204" or "Order NY 12345".
US_ZIP = re.compile(
    r"(?<![\w'.-])(?!(?:Hi|Hello|Hey|Thanks|Thank|Sorry|Yes|No|Ok|Okay|Please|Order|Invoice|Account|Ref)\b)[A-Z][\w'.-]*"
    r"(?:,\s*|\s+)(?:" + _US_STATES + r")\s+(\d{5}(?:-\d{4})?)\b"
)
# A British postcode after its town, ending the address: "London SW1A 1AA". (Its last two letters
# are never C, I, K, M, O or V, and "2TB" is a disk.)
UK_POSTCODE = re.compile(
    r"\b[A-Z][a-z]+,?\s+([A-Z]{1,2}\d[A-Z\d]?[ ]?(?!\d[TGMK]B\b)\d[ABD-HJLNP-UW-Z]{2})(?=\s*$|\s*[,.;!?)\n])"
)
# ", London NW1 6XE", ", 10115 Berlin", " 1012 AB Amsterdam", ", Lyon 69002", ", 1100-053 Lisboa"
POSTCODE_AFTER_ADDRESS = re.compile(
    r"(?<=\[address\]),?\s+(?:[A-Z][\w'\u2019-]+,?\s+){0,3}(" + _POSTCODE_FORMS + r")\b"
)


@dataclass(frozen=True)
class Masked:
    text: str
    # The kinds of personal data found ("card", "email", ...), one entry per occurrence.
    found: tuple[str, ...]
    # What was masked, as (kind, the text it replaced), in the order the rules found them.
    pieces: tuple[tuple[str, str], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.found)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _cards(match: re.Match[str]) -> str | None:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else None


def _typed_ibans(match: re.Match[str]) -> str | None:
    compact = match.group(0).replace(" ", "").upper()
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return "[iban]" if int(digits) % 97 == 1 else None


def _group_masked(replacement: str) -> Callable[[re.Match[str]], str | None]:
    """Masks only the match's first group, keeping the words that told what it is ("order", "zip"),
    and only when the group holds a digit (not "order status")."""

    def replace(match: re.Match[str]) -> str | None:
        if not any(c.isdigit() for c in match.group(1)):
            return None
        start, end = match.span(1)
        whole_start = match.start(0)
        return match.group(0)[: start - whole_start] + replacement + match.group(0)[end - whole_start :]

    return replace


RULES: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    ("email", EMAIL, lambda m: "[email]"),
    ("iban", IBAN, lambda m: "[iban]"),
    ("iban", IBAN_TYPED, _typed_ibans),
    ("card", CARD, _cards),
    ("order number", ORDER, _group_masked("[number]")),
    ("account number", ACCOUNT, _group_masked("[number]")),
    ("postcode", POSTCODE_NAMED, _group_masked("[postcode]")),
    ("postcode", US_ZIP, _group_masked("[postcode]")),
    ("address", PO_BOX, lambda m: "[address]"),
    ("phone", PHONE, lambda m: "[phone]"),
    ("number", LONG_NUMBER, lambda m: "[number]"),
    ("address", STREET_SUFFIXED, lambda m: "[address]"),
    ("address", STREET_FRENCH, lambda m: "[address]"),
    ("address", STREET_PREFIXED, lambda m: "[address]"),
    ("address", STREET, lambda m: "[address]"),
    ("address", STREET_CAPITALISED, lambda m: "[address]"),
    ("postcode", POSTCODE_AFTER_ADDRESS, _group_masked("[postcode]")),
    ("postcode", UK_POSTCODE, _group_masked("[postcode]")),
)


# Stands in for a piece kept as it is while the later rules run, so none of them masks part of it:
# private-use characters, which no rule matches and which are taken out of the text first, so that
# none typed by a customer is taken for one.
_SHIELD = "\ue000{}\ue001"
_SHIELD_BASE = 0xE100
_NO_SHIELDS = dict.fromkeys([0xE000, 0xE001, *range(_SHIELD_BASE, _SHIELD_BASE + 0x100)])

# Order numbers name an order, and the bot collects them for the agent (its regex entity); Rasa
# never needs the rest, and every message it is sent stays in its tracker store.
BOT_MAY_SEE = frozenset({"order number"})


def mask(text: str, keep: frozenset[str] = frozenset()) -> Masked:
    """The text with every piece of personal data replaced by its kind, except the kinds in `keep`,
    which stay as they are (and are neither found nor masked in part by a later rule)."""
    pieces: list[tuple[str, str]] = []
    kept: list[str] = []
    if keep:
        text = text.translate(_NO_SHIELDS)
    for kind, pattern, replace in RULES:

        def substitute(match: re.Match[str], kind: str = kind, replace: Callable[..., str | None] = replace) -> str:
            replacement = replace(match)
            if replacement is None:
                return match.group(0)
            if kind in keep:
                kept.append(match.group(0))
                return _SHIELD.format(chr(_SHIELD_BASE + len(kept) - 1))
            pieces.append((kind, match.group(0)))
            return replacement

        text = pattern.sub(substitute, text)
    for number, original in enumerate(kept):
        text = text.replace(_SHIELD.format(chr(_SHIELD_BASE + number)), original)
    return Masked(text=text, found=tuple(kind for kind, _ in pieces), pieces=tuple(pieces))


def for_the_bot(text: str) -> str:
    """What Rasa is sent of a customer message: masked, but for the order numbers it collects."""
    return mask(text, keep=BOT_MAY_SEE).text


def contact_details(texts: Sequence[str]) -> dict[str, str]:
    """The email address and phone number a customer gave, the latest of each: the bot never sees
    them, so the service adds them to the handoff packet for the agent."""
    found: dict[str, str] = {}
    for text in texts:
        for kind, value in mask(text).pieces:
            if kind in ("email", "phone"):
                found[kind] = value
    return found
