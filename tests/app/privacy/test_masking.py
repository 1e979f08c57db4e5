"""Personal data is found and masked by kind; ordinary questions pass untouched."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.privacy.masking import contact_details, for_the_bot, luhn_valid, mask


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        ("my card is 4111 1111 1111 1111", "my card is [card]", ("card",)),
        ("card 4111-1111-1111-1111 please", "card [card] please", ("card",)),
        ("write to bob.smith+shop@example.co.uk", "write to [email]", ("email",)),
        ("call me at +31 20 555 0100 tomorrow", "call me at [phone] tomorrow", ("phone",)),
        ("order #A12345 never came", "order #[number] never came", ("order number",)),
        ("my order is 55123401", "my order is [number]", ("order number",)),
        ("account no. 87654321 is locked", "account no. [number] is locked", ("account number",)),
        ("refund to NL91 ABNA 0417 1643 00", "refund to [iban]", ("iban",)),
        ("I live at 221B Baker Street", "I live at [address]", ("address",)),
        ("tracking 1234567812345678 is stuck", "tracking [number] is stuck", ("number",)),
        ("refund to nl91 abna 0417 1643 00 please", "refund to [iban] please", ("iban",)),
        ("ich wohne in der Hauptstraße 5, Berlin", "ich wohne in der [address], Berlin", ("address",)),
        ("Kerkstraat 12a, Amsterdam", "[address], Amsterdam", ("address",)),
        ("Bahnhofstr. 3 bitte", "[address] bitte", ("address",)),
        ("vivo en Calle Mayor 5", "vivo en [address]", ("address",)),
        ("Via Roma 10, Milano", "[address], Milano", ("address",)),
        ("j'habite au 12 rue de la Paix à Paris", "j'habite au [address] à Paris", ("address",)),
        ("send it to 14 bis avenue Victor Hugo", "send it to [address]", ("address",)),
        ("au 3 rue de l'Église, Lyon", "au [address], Lyon", ("address",)),
        ("12 Rue de Rivoli, Paris", "[address], Paris", ("address",)),
        ("Karl-Marx-Straße 5 in Berlin", "[address] in Berlin", ("address",)),
        ("Calle de la Paz 5", "[address]", ("address",)),
        ("Via della Spiga 12, Milano", "[address], Milano", ("address",)),
        ("AT611904300234573201 please", "[iban] please", ("iban",)),
        ("ES91 2100 0418 4502 0005 1332 for the refund", "[iban] for the refund", ("iban",)),
        ("at611904300234573201 with thanks", "[iban] with thanks", ("iban",)),
        ("5, place d\u2019Italie", "[address]", ("address",)),
        ("Rue de Rivoli 5, Paris", "[address], Paris", ("address",)),
        ("vivo en calle mayor 5", "vivo en [address]", ("address",)),
        ("rua augusta 100", "[address]", ("address",)),
        ("I live at 221B Baker St", "I live at [address]", ("address",)),
        ("send it to 12 Main St.", "send it to [address]", ("address",)),
        ("my address is 5 elm st", "my address is [address]", ("address",)),
        ("350 5th Ave please", "[address] please", ("address",)),
        ("4 Privet Drive, Little Whinging", "[address], Little Whinging", ("address",)),
        ("PO Box 1234", "[address]", ("address",)),
        ("postcode sw1a 1aa", "postcode [postcode]", ("postcode",)),
        ("my zip is 94105", "my zip is [postcode]", ("postcode",)),
        ("Springfield, IL 62704", "Springfield, IL [postcode]", ("postcode",)),
        ("London SW1A 1AA", "London [postcode]", ("postcode",)),
        ("12 Baker Street, London NW1 6XE", "[address], London [postcode]", ("address", "postcode")),
        ("Hauptstraße 5, 10115 Berlin", "[address], [postcode] Berlin", ("address", "postcode")),
        ("Kerkstraat 12, 1012 AB Amsterdam", "[address], [postcode] Amsterdam", ("address", "postcode")),
        ("12 rue de la Paix, 75002 Paris", "[address], [postcode] Paris", ("address", "postcode")),
        ("12 rue de la paix, 75002 paris", "[address], [postcode] paris", ("address", "postcode")),
        ("Rua Augusta 100, 1100-053 Lisboa", "[address], [postcode] Lisboa", ("address", "postcode")),
        ("zip 94105-1234", "zip [postcode]", ("postcode",)),
        ("my zip is 94105 and it went elsewhere", "my zip is [postcode] and it went elsewhere", ("postcode",)),
        ("postcode is: SW1A 1AA", "postcode is: [postcode]", ("postcode",)),
        ("PLZ ist 10115", "PLZ ist [postcode]", ("postcode",)),
        ("code postal 75002", "code postal [postcode]", ("postcode",)),
        ("Postfach 10 12 34", "[address]", ("address",)),
        ("Postbus 1234", "[address]", ("address",)),
        ("Berliner Straße 12", "[address]", ("address",)),
        ("C/ Mayor 5", "[address]", ("address",)),
        ("Av. da Liberdade 110", "[address]", ("address",)),
        ("12 The Avenue, Bristol", "[address], Bristol", ("address",)),
        ("12 Main St, Springfield", "[address], Springfield", ("address",)),
        ("12 Main St Apt 4", "[address] Apt 4", ("address",)),
        ("I live at 1234 16th St NW", "I live at [address]", ("address",)),
        ("8 Mile Road", "[address]", ("address",)),
        ("5 The Gardens, Leeds", "[address], Leeds", ("address",)),
        ("Bloco 2, Rua Augusta 100, Lisboa", "Bloco 2, [address], Lisboa", ("address",)),
        ("Dr.-Otto-Nuschke-Straße 5", "Dr.-[address]", ("address",)),
        ("C/Mayor 5", "[address]", ("address",)),
        ("my postal code is K1A 0B1", "my postal code is [postcode]", ("postcode",)),
        ("postcode D02 X285", "postcode [postcode]", ("postcode",)),
        ("postcode 114 55", "postcode [postcode]", ("postcode",)),
        ("PLZ ist 1010 in Wien", "PLZ ist [postcode] in Wien", ("postcode",)),
        ("McAllen TX 78501", "McAllen TX [postcode]", ("postcode",)),
    ],
)
def test_personal_data_is_masked_by_kind(text: str, masked: str, kinds: tuple[str, ...]) -> None:
    result = mask(text)

    assert (result.text, result.found) == (masked, kinds)


@pytest.mark.parametrize(
    "text",
    [
        "how do I return 2 items?",
        "what is my order status",
        "is delivery free over 50 EUR?",
        "opening hours 9-17",
        "Via email 5 times already",
        "Via WhatsApp 3 times already",
        "Via Chrome 120 on Windows",
        "There is only 1 place I can pick it up",
        "I rented a 2 bd House",
        "we have 12 places left",
        "Norwegian 5 times",
        "it took 3 weeks on the way",
        "we drove 5 hours down the road",
        "2 kids on the road",
        "gave 5 stars to the drive",
        "we got 2 first place",
        "Is the PS5 2TB in stock?",
        "the zip file 12345 is broken",
        "Via email 5, then nothing",
        "the plaza is 5 minutes away",
        "my 2 st bernards",
        "where is my order ID 48213",
        "Do you have the Samsung T7 2TB?",
        "plz 12 items are missing",
        "en el apartado 3 de las condiciones",
        "I bought 2 green St Patrick's Day shirts",
        "3 In A Row",
        "I bought 2 new road bikes",
        "we planned a 10 mile road trip",
        "I ordered 2 Google Drive licences",
        "the 1 TB Drive stopped working",
        "I have 2 place settings",
        "I have a Carrera 4.",
        "my av. score 5.",
        "Rues 3, thanks",
        "I ordered the Silver Ring 2 weeks ago",
        "Hi, IN 46204",
        "Sorry, CA 90210 was the code",
        "we have 2 boulevard locations",
    ],
)
def test_ordinary_questions_are_left_alone(text: str) -> None:
    assert mask(text).text == text
    assert not mask(text).changed


def test_an_iban_in_lower_case_is_masked_only_when_its_check_digits_add_up() -> None:
    # The same characters with the last digit changed fail ISO 13616's mod-97 check: not an IBAN,
    # though its digits are still masked as a phone number would be.
    assert "iban" not in mask("refund to nl91 abna 0417 1643 01 please").found
    assert mask("DE89 3704 0044 0532 0130 00").text == "[iban]"


def test_letters_outside_ascii_never_break_the_iban_check() -> None:
    # With case folding, "İ" and the Kelvin sign once matched [A-Z] and crashed the check digits' sum.
    for text in ("ab12 İbcd efgh", "\u212ab12 abcd efgh ijkl"):
        assert mask(text).text == text


def test_long_runs_of_spaces_between_street_words_are_masked_in_one_pass() -> None:
    # Each of these took the street patterns minutes once (backtracking over how to split the
    # spaces); a message of 2,000 characters could hold a worker for an hour.
    for text in ("Calle" + (" " * 300 + "De") * 3 + "x", "12 rue" + (" \n" * 300 + "de") * 3 + "x"):
        assert mask(text).text == text


def test_long_runs_of_words_that_could_be_a_street_name_are_masked_in_one_pass() -> None:
    # A name typed in lower case and its particles ("de", "la") once matched the same words, and
    # "rue" followed by 3,000 "de" held the process for good.
    # "calle" and 2,000 letters once took a minute: one word could be split into three names in every way.
    long_runs = ("rue" + " de" * 3000 + "x", "Via" + " della" * 2000, "1 " + "ab " * 3000, "rue de la " * 1000)
    for text in (*long_runs, "calle " + "a" * 3000, "c/" + "a" * 3000, "zip" + " " * 3000):
        assert mask(text).text == text


def test_luhn_tells_card_numbers_from_other_long_numbers() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


@given(st.from_regex(r"\A4\d{15}\Z", fullmatch=True))
def test_no_valid_card_number_survives_masking(number: str) -> None:
    masked = mask(f"pay with {number} now").text

    assert number not in masked


def test_the_bot_is_sent_order_numbers_and_nothing_else_personal() -> None:
    sent = for_the_bot("Order 55123401 went to 12 Baker Street; mail jo@example.com or call +44 7700 900456")

    assert sent == "Order 55123401 went to [address]; mail [email] or call [phone]"
    assert for_the_bot("my card 4111 1111 1111 1111 for order KS-220917") == "my card [card] for order KS-220917"
    assert for_the_bot("my order is 55123401, account 12345678") == "my order is 55123401, account [number]"
    assert for_the_bot("order 48213 \ue000\ue100\ue001") == "order 48213 "


def test_the_latest_email_and_phone_a_customer_gave_are_found_and_order_numbers_are_not_phones() -> None:
    said = ["my email is old@example.com", "order 55123401 please", "no, use new@example.com or 07700 900123"]

    assert contact_details(said) == {"email": "new@example.com", "phone": "07700 900123"}
    assert contact_details(["where is order 48213"]) == {}
