"""The customer's language, from the words every sentence needs; unsure means None."""

import pytest

from app.conversations.language import detect


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is my order? It still has not arrived", "en"),
        ("Wo ist meine Bestellung? Sie ist noch nicht da", "de"),
        ("Où est ma commande ? Je ne l'ai toujours pas reçue", "fr"),
        ("¿Dónde está mi pedido? Todavía no lo he recibido", "es"),
        ("Waar is mijn bestelling? Ik heb hem nog niet ontvangen", "nl"),
        ("Dov'è il mio ordine? Non l'ho ancora ricevuto", "it"),
        ("Onde está o meu pedido? Ainda não recebi", "pt"),
        ("I want to talk to a person", "en"),
        ("Ich möchte mit einem Menschen sprechen", "de"),
    ],
)
def test_common_questions_are_recognised(text: str, language: str) -> None:
    assert detect([text]) == language


@pytest.mark.parametrize("texts", [[], ["hi"], ["KS-220917"], ["ok 👍"], ["?"], ["Yes, a la carte menu"]])
def test_too_little_to_go_on_is_none(texts: list[str]) -> None:
    assert detect(texts) is None


def test_several_messages_count_together() -> None:
    assert detect(["Hallo", "meine Karte", "geht nicht"]) == "de"
