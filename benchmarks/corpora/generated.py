"""Generated news-like input for runner-equivalence tests and benchmarks: articles in English, French
and German with page boilerplate around them, exact and URL duplicates, and bad records. Seeded, so
the same call writes the same bytes."""
from __future__ import annotations

import json
import os
import random

from benchmarks.corpora.textgen import story

PEOPLE = ["Maria Lopez", "John Carter", "Aiko Tanaka", "Pierre Martin", "Anna Schmidt", "David Okafor",
          "Sofia Rossi", "Lars Nilsson", "Fatima Haddad", "Chen Wei"]
PLACES = ["London", "Paris", "Berlin", "Madrid", "Lagos", "Tokyo", "Chicago", "Lyon", "Hamburg", "Toronto"]
ORGS = ["the World Bank", "Siemens", "the United Nations", "Airbus", "the European Commission", "Toyota"]
EN = [
    "{p} said on {d} that {o} would open a new office in {c} next year.",
    "Officials in {c} confirmed that talks with {o} had been going on for several months.",
    "The plan was welcomed by {p}, who called it an important step for workers in {c}.",
    "Critics warned that the costs could rise sharply if the project is delayed again.",
    "According to {o}, more than two thousand jobs could be created over the next decade.",
    "{p} told reporters in {c} that the final decision would be taken before the summer.",
]
FR = [
    "{p} a déclaré {d} que la ville de {c} allait investir dans de nouvelles lignes de tramway.",
    "Les habitants de {c} attendent depuis longtemps une amélioration des transports publics.",
    "Selon les services de la mairie, les travaux devraient commencer au printemps prochain.",
    "{p} a rencontré les représentants des syndicats à {c} pour présenter le projet.",
    "Le coût total du chantier est estimé à plusieurs centaines de millions d'euros.",
]
DE = [
    "{p} kündigte am {d} an, dass die Stadt {c} neue Radwege bauen wird.",
    "Die Bewohner von {c} fordern seit Jahren bessere Verbindungen in die Innenstadt.",
    "Nach Angaben der Verwaltung sollen die Arbeiten im kommenden Frühjahr beginnen.",
    "{p} traf sich in {c} mit Vertretern der Gewerkschaften, um das Projekt vorzustellen.",
    "Die Gesamtkosten werden auf mehrere Millionen Euro geschätzt.",
]
DAYS = {"en": ["Monday", "Tuesday", "Wednesday"], "fr": ["lundi", "mardi", "mercredi"], "de": ["Montag", "Dienstag"]}
CHROME = {
    "en": (["Home > News", "Menu", "Search"], ["Share this article", "- Advertisement -", "Most Popular",
                                              "Please enter your comment!", "© 2025 Example News. All rights reserved."]),
    "fr": (["Accueil > Actualités", "Menu"], ["Partager sur Facebook", "Publicité", "Abonnez-vous à notre newsletter"]),
    "de": (["Startseite › Nachrichten", "Menü"], ["Teilen", "Anzeige", "Newsletter abonnieren", "Impressum"]),
}
TEMPLATES = {"en": EN, "fr": FR, "de": DE}


def make_page(rnd: random.Random, lang: str, n: int) -> tuple[str, str]:
    """(title, page text) of one generated article: a templated lead with names for NER, then text
    of its own (benchmarks/corpora/textgen.py), so that two generated articles are different stories."""
    fill = dict(p=rnd.choice(PEOPLE), c=rnd.choice(PLACES), o=rnd.choice(ORGS), d=rnd.choice(DAYS[lang]))
    title = f"{fill['c']}: {fill['p']} {['on the new plan', 'sur le projet', 'zum neuen Plan'][['en', 'fr', 'de'].index(lang)]} ({n})"
    body = [rnd.choice(TEMPLATES[lang]).format(**fill)] + story(f"generated-{n}", lang, rnd.randint(3, 6))
    body.append(f"Reference {n}: " + rnd.choice(TEMPLATES[lang]).format(**fill))
    head, foot = CHROME[lang]
    return title, "\n".join(head + [title, title] + body + foot) + "\n"


def write_generated(folder: str, n: int = 300, seed: int = 7) -> dict:
    """Write ``n`` generated records to ``folder`` (txt files and one jsonl); returns what was planted."""
    rnd = random.Random(seed)
    os.makedirs(folder, exist_ok=True)
    planted = {"exact_duplicates": 0, "url_duplicates": 0, "bad_records": 0, "records": 0}
    lines = []
    for i in range(n):
        lang = rnd.choices(["en", "fr", "de"], weights=[6, 3, 1])[0]
        title, page = make_page(rnd, lang, i)
        if i % 3 == 0:
            with open(os.path.join(folder, f"page-{i:04d}.txt"), "w", encoding="utf-8") as handle:
                handle.write(page)
        else:
            lines.append(json.dumps({"id": f"gen-{i:04d}", "url": f"https://news.example/{lang}/{i}",
                                     "published_at": f"2025-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                                     "text": page}, ensure_ascii=False))
        planted["records"] += 1
        if i % 25 == 1:  # the same story again, later, under another id: an exact duplicate
            lines.append(json.dumps({"id": f"copy-{i:04d}", "published_at": "2025-04-01T00:00:00Z", "text": page},
                                    ensure_ascii=False))
            planted["exact_duplicates"] += 1
            planted["records"] += 1
        if i % 40 == 2 and i % 3 != 0:  # the same URL with tracking noise and an edited page: a URL duplicate
            lines.append(json.dumps({"id": f"edit-{i:04d}", "url": f"http://www.news.example/{lang}/{i}?utm_source=x",
                                     "text": page.replace(title, title + " (updated)")}, ensure_ascii=False))
            planted["url_duplicates"] += 1
            planted["records"] += 1
        if i % 50 == 3:  # broken records
            lines.append('{"id": "broken-%d", "text": "cut off' % i)
            lines.append(json.dumps({"id": f"notext-{i}", "title": "no text"}))
            planted["bad_records"] += 2
            planted["records"] += 2
    with open(os.path.join(folder, "feed.jsonl"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return planted
