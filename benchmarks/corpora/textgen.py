"""Distinct, prose-shaped text for test corpora, seeded: the same key always gives the same text.

Stories drawn from a few sentence templates share most of their word shingles, so near-duplicate
detection would rightly call them copies. Text made here from a few hundred common words in random
order shares almost no five-word shingle between two keys, so pages made from different keys are
different stories, while each still reads as English, French, German or Spanish to a language
detector and as prose (sentences of 9-16 words) to the cleaner.
"""
from __future__ import annotations

import hashlib
import random

WORDS = {
    "en": """the council said on monday that new plans for the harbour would be published after talks with
    residents and local businesses who have raised concerns about traffic noise and the cost of repairs to
    older buildings near the river while officials insisted that the budget was under control and that work
    could begin early next year if the government approves extra funding for schools hospitals roads and
    public transport across the region where many families still wait for better services and fair prices
    in shops markets and offices as farmers teachers nurses drivers and engineers told reporters they expect
    clear answers from ministers before the election campaign starts in earnest this autumn because the
    economy remains weak and wages have not kept pace with rising rents energy bills food costs and interest
    rates according to figures released by the national statistics office on friday morning""",
    "fr": """le conseil municipal a annoncé lundi que les nouveaux projets pour le port seront publiés après
    une concertation avec les habitants et les commerçants qui craignent le bruit la circulation et le coût
    des travaux dans les vieux quartiers près du fleuve tandis que les élus assurent que le budget reste
    maîtrisé et que le chantier pourrait commencer au début de l'année prochaine si le gouvernement accorde
    des crédits supplémentaires pour les écoles les hôpitaux les routes et les transports publics de la
    région où de nombreuses familles attendent encore des services meilleurs et des prix justes""",
    "de": """der stadtrat teilte am montag mit dass die neuen pläne für den hafen nach gesprächen mit den
    anwohnern und geschäftsleuten veröffentlicht werden die sich über lärm verkehr und die kosten der
    arbeiten in den alten vierteln am fluss sorgen während die verwaltung betont dass der haushalt solide
    bleibt und die bauarbeiten im kommenden jahr beginnen könnten wenn die regierung zusätzliche mittel für
    schulen krankenhäuser straßen und den öffentlichen verkehr in der region bewilligt wo viele familien
    noch immer auf bessere angebote und faire preise warten""",
    "es": """el ayuntamiento anunció el lunes que los nuevos planes para el puerto se publicarán tras las
    reuniones con los vecinos y los comerciantes que temen el ruido el tráfico y el coste de las obras en
    los barrios antiguos junto al río mientras los responsables aseguran que el presupuesto está controlado
    y que las obras podrían empezar a principios del próximo año si el gobierno aprueba fondos adicionales
    para escuelas hospitales carreteras y transporte público en la región donde muchas familias todavía
    esperan mejores servicios y precios justos""",
}
_VOCAB = {lang: sorted(set(text.split())) for lang, text in WORDS.items()}


def _rng(key: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big"))


def sentence(rnd: random.Random, lang: str = "en") -> str:
    words = [rnd.choice(_VOCAB[lang]) for _ in range(rnd.randint(9, 16))]
    return " ".join(words).capitalize() + "."


def paragraph(key: str, lang: str = "en", sentences: int = 3) -> str:
    """One paragraph of ``sentences`` sentences, the same for the same ``key``."""
    rnd = _rng(f"{lang}:{key}")
    return " ".join(sentence(rnd, lang) for _ in range(sentences))


def story(key: str, lang: str = "en", paragraphs: int = 4) -> list[str]:
    """The paragraphs of one story."""
    return [paragraph(f"{key}/{i}", lang, _rng(f"{key}/{i}").randint(2, 4)) for i in range(paragraphs)]
