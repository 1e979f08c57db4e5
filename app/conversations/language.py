"""Which language a customer writes in, so the router can offer the case to someone who speaks it.

Customers' messages are short, so a statistical model of letters guesses badly and downloading one is
not allowed here. The words every sentence needs (articles, pronouns, the commonest verbs) tell the
usual languages of European brands apart well enough: the language whose words appear most wins,
when it has at least two of them and twice as many as any other (short words like "a" and "la" are
shared). Otherwise the answer is None, and the brand's default language applies.
"""

import re
from collections.abc import Iterable


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and is are was were my your you i it this that to of for with have has not no can do does "
        "did what when where why how please thanks hello hi order card refund yet still been will would "
        "yes a an in on at me be so if or"
    ),
    "de": _words(
        "der die das und ist sind war ich mein meine meinen mir mich sie nicht kein keine ein eine einen "
        "zu mit für auf wann wo warum wie bitte danke hallo habe hat noch schon wurde bestellung karte "
        "es sich auch aber oder"
    ),
    "fr": _words(
        "le la les et est sont était je mon ma mes vous tu il elle ne pas un une des du de pour avec "
        "quand où pourquoi comment merci bonjour ai a toujours commande carte remboursement encore "
        "mais ou cette ce qui que été déjà reçu"
    ),
    "es": _words(
        "el la los las y es son era yo mi mis usted tu no un una unos de del para con cuando donde "
        "por qué como gracias hola he ha todavía pedido tarjeta reembolso aún pero o este esta que dónde "
        "está cómo cuándo también recibido"
    ),
    "nl": _words(
        "de het een en is zijn was ik mijn mij je jij u niet geen van voor met wanneer waar waarom "
        "hoe alsjeblieft bedankt hallo heb heeft nog al bestelling kaart terugbetaling maar of dit dat"
    ),
    "it": _words(
        "il lo la gli le e è sono era io mio mia miei non un una di del della per con quando dove "
        "perché come grazie ciao ho ha ancora ordine carta rimborso ma o questo questa che"
    ),
    "pt": _words(
        "o a os as e é são era eu meu minha meus você não um uma de do da para com quando onde "
        "por que como obrigado obrigada olá tenho tem ainda pedido cartão reembolso mas ou este esta já "
        "também recebi"
    ),
}
_WORD = re.compile(r"[^\W\d_]+")


def detect(texts: Iterable[str]) -> str | None:
    """The language the texts are written in, or None when they do not say clearly."""
    counts = dict.fromkeys(WORDS, 0)
    for word in (w.lower() for text in texts for w in _WORD.findall(text)):
        for language, words in WORDS.items():
            counts[language] += word in words
    ranked = sorted(counts.items(), key=lambda pair: -pair[1])
    (best, hits), (_, runner_up) = ranked[0], ranked[1]
    return best if hits >= 2 and hits >= 2 * runner_up else None
