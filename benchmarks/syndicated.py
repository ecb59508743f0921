"""A labelled set of syndicated news pages, built from a folder of plain articles (headline on line 1).

Each story is published by one site in that site's page chrome; some stories are then re-published
by other sites, each copy edited the way syndication edits: other chrome, a new headline, a
paragraph cut or added, typo-level changes, other quote marks, a correction line. Every page of one
story carries the same ``story`` label; pages of different stories are different stories (the
caller adds pairs that the source corpus itself re-published, see ``benchmarks/dedupe.py``).

Seeded: the same arguments give the same pages.
"""
from __future__ import annotations

import glob
import os
import random
from dataclasses import dataclass

SITES = [
    # (breadcrumb, header lines, lines inside the body, footer lines), in the shape of the user's sample
    ("HomeTop Stories", ["Menu", "Search"], ["See also  {other}", "- Advertisement -"],
     ["For the latest news, weather, sports and streaming video, visit The Daily Example.", "- Advertisement -",
      "Please enter your comment!", "Please enter your name here", "Most Popular", "Recent Comments"]),
    ("Home > World > Europe", ["Subscribe", "Sign in"], ["Read more: {other}", "Advertisement"],
     ["Share this article", "Facebook", "Twitter", "Email", "Related Stories", "{other}", "{other2}",
      "© 2025 Northern Herald. All rights reserved.", "Privacy Policy | Terms of Use"]),
    ("News | Business | Markets", ["Newsletter", "Log in"], ["ADVERTISEMENT", "Also read: {other}"],
     ["Leave a Reply", "Your email address will not be published.", "Trending Now", "{other}",
      "Copyright 2025 Wire Mirror Ltd"]),
    ("Startseite > Nachrichten", ["Menü", "Suche"], ["Anzeige", "Lesen Sie auch: {other}"],
     ["Teilen", "Kommentare", "Meistgelesen", "{other}", "Impressum | Datenschutz"]),
    ("Accueil > International", ["Menu", "Rechercher"], ["Publicité", "Lire aussi : {other}"],
     ["Partager sur Facebook", "Abonnez-vous à notre newsletter", "Les plus lus", "{other}",
      "Tous droits réservés"]),
]

NEW_HEADLINE_PREFIXES = ["UPDATE: ", "Analysis: ", "Breaking: ", "", "Report: "]
EXTRA_PARAGRAPHS = [
    "This article was amended on {day} to correct the spelling of a name.",
    "Additional reporting by our correspondents in the region.",
    "The agency said it would publish a fuller statement later in the week, and officials declined to comment "
    "further on the figures before then.",
    "Correction: an earlier version of this story gave the wrong date for the meeting.",
]


@dataclass(frozen=True)
class Page:
    story: str  # label: pages of one story carry the same one
    site: int
    title: str
    paragraphs: tuple[str, ...]
    page_text: str
    edits: tuple[str, ...]  # what was done to the original ('' for the original)


def read_articles(folder: str) -> list[tuple[str, str, list[str]]]:
    """(name, headline, paragraphs) of every ``*.txt`` below ``folder``, sorted by path."""
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.txt"), recursive=True)):
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines()]
        if len(lines) < 3:
            continue
        head, body = lines[0], [line for line in lines[1:] if line]
        if head and body:
            out.append((os.path.relpath(path, folder), head, body))
    return out


def _typos(rnd: random.Random, paragraph: str, n: int) -> str:
    chars = list(paragraph)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    for i in rnd.sample(letters, min(n, len(letters))):
        chars[i] = rnd.choice("aeiourstln")
    return "".join(chars)


def _quotes(paragraph: str, curly: bool) -> str:
    if curly:
        out, open_quote = [], True
        for ch in paragraph:
            if ch == '"':
                out.append("\u201c" if open_quote else "\u201d")
                open_quote = not open_quote
            elif ch == "'":
                out.append("\u2019")
            else:
                out.append(ch)
        return "".join(out)
    return paragraph.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")


# What every page of a site repeats around the article: a menu, a cookie banner, an "about us"
# paragraph. Real pages carry about as many words of this as of the article.
SITE_MENUS = [
    "World | Politics | Business | Tech | Science | Health | Sport | Culture | Opinion | Video | Podcasts",
    "News | UK | Europe | Americas | Asia | Africa | Middle East | Markets | Companies | Climate | Travel",
    "Home | Latest | Economy | Energy | Banking | Property | Personal Finance | Careers | Events | Data",
    "Nachrichten | Politik | Wirtschaft | Kultur | Sport | Wissen | Reisen | Auto | Digital | Video",
    "Actualités | Politique | Économie | Culture | Sport | Sciences | Planète | Vidéos | Podcasts",
]
SITE_BLURBS = [
    "The Daily Example is an independent news organisation. We rely on readers like you to keep our journalism "
    "free for everyone. Support us today with a monthly contribution and help us report on the stories that matter.",
    "We use cookies to personalise content and ads, to provide social media features and to analyse our traffic. "
    "By continuing to use this site you agree to our use of cookies and to our privacy policy.",
    "Wire Mirror publishes syndicated reporting from agencies around the world. Our newsroom adds local context "
    "and analysis, and our editors check every story before it goes live on the site.",
    "Wir verwenden Cookies, um Inhalte und Anzeigen zu personalisieren und die Zugriffe auf unsere Website zu "
    "analysieren. Mit der Nutzung der Seite stimmen Sie der Verwendung von Cookies zu.",
    "Nous utilisons des cookies pour vous proposer des contenus et des publicités adaptés à vos centres "
    "d'intérêt et pour réaliser des statistiques de visites. En poursuivant, vous acceptez leur utilisation.",
]


def render(rnd: random.Random, site: int, title: str, paragraphs: list[str], teasers: list[str]) -> str:
    crumb, header, inside, footer = SITES[site]
    fill = {"other": rnd.choice(teasers), "other2": rnd.choice(teasers)}
    lines = [crumb + title if site == 0 else crumb, SITE_MENUS[site], *header, title, title]
    for i, paragraph in enumerate(paragraphs):
        lines.append(paragraph)
        if i == 1 and len(paragraphs) > 3:
            lines.append(inside[0].format(**fill))
        if i == len(paragraphs) // 2 + 1 and len(paragraphs) > 4:
            lines.append(inside[1].format(**fill))
    lines += [f.format(**fill) for f in footer]
    lines += rnd.sample(teasers, 5)  # a list of other stories
    lines.append(SITE_BLURBS[site])
    return "\n\n".join(lines) + "\n"


def page_record(rnd: random.Random, site: int, key: str, title: str, paragraphs: list[str], teasers: list[str],
                url: str | None = None) -> dict:
    """A JSONL input record: the page of ``title``/``paragraphs`` as site ``site`` renders it."""
    host = f"site{site}.example"
    return {"id": key, "url": url or f"https://{host}/{key}", "source": host,
            "text": render(rnd, site, title, paragraphs, teasers)}


def edit(rnd: random.Random, title: str, paragraphs: list[str], extra_pool: list[str]) -> tuple[str, list[str], list[str]]:
    """A syndicated copy: one to three of the edits syndication makes."""
    kinds = rnd.sample(["headline", "cut", "add", "typos", "quotes", "correction"], rnd.randint(1, 3))
    paragraphs = list(paragraphs)
    for kind in kinds:
        if kind == "headline":
            title = rnd.choice(NEW_HEADLINE_PREFIXES) + " ".join(reversed(title.split(" ", 1))) if " " in title else title + " (update)"
        elif kind == "cut" and len(paragraphs) > 3:
            del paragraphs[rnd.randrange(1, len(paragraphs))]
        elif kind == "add":
            paragraphs.insert(rnd.randrange(1, len(paragraphs) + 1), rnd.choice(extra_pool))
        elif kind == "typos":
            i = rnd.randrange(len(paragraphs))
            paragraphs[i] = _typos(rnd, paragraphs[i], rnd.randint(1, 4))
        elif kind == "quotes":
            curly = rnd.random() < 0.5
            paragraphs = [_quotes(p, curly) for p in paragraphs]
        elif kind == "correction":
            paragraphs.append(rnd.choice(EXTRA_PARAGRAPHS).format(day=rnd.choice(["Monday", "Friday"])))
    return title, paragraphs, kinds


def build(folder: str, stories: int, copy_share: float = 0.5, max_copies: int = 4, seed: int = 11) -> list[Page]:
    """Pages for ``stories`` articles of ``folder``; about ``copy_share`` of them are syndicated,
    each to 1..``max_copies`` other sites."""
    rnd = random.Random(seed)
    articles = read_articles(folder)
    chosen = rnd.sample(articles, min(stories, len(articles)))
    teasers = [head for _, head, _ in articles]
    extra_pool = [p for _, _, body in rnd.sample(articles, min(200, len(articles))) for p in body[:1]]
    pages: list[Page] = []
    for name, title, body in chosen:
        site = rnd.randrange(len(SITES))
        pages.append(Page(name, site, title, tuple(body), render(rnd, site, title, body, teasers), ()))
        if rnd.random() < copy_share:
            others = [s for s in range(len(SITES)) if s != site]
            for copy_site in rnd.sample(others, rnd.randint(1, min(max_copies, len(others)))):
                t, paras, kinds = edit(rnd, title, body, extra_pool)
                pages.append(Page(name, copy_site, t, tuple(paras), render(rnd, copy_site, t, paras, teasers),
                                  tuple(kinds)))
    return pages
