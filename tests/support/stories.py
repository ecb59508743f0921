"""The stories of a lake of several dates: originals published on day 1, edited copies of them on
another site, and fresh stories. Seeded: the same number always gives the same page."""
from __future__ import annotations

from benchmarks.corpora.textgen import story

D1, D2, D3 = "2025-06-01", "2025-06-02", "2025-06-03"


def page(title, paragraphs, site):
    """Page text the way a scraper sees it: chrome, the title twice, the body, more chrome."""
    head = [f"{site} | Home > News > Region", "Menu", "Search", title, title]
    foot = ["- Advertisement -", "Most Popular", "Please enter your comment!", f"(c) 2025 {site}"]
    return "\n".join(head + [line for p in paragraphs for line in (p, "")] + foot)


def original(i):
    return {"url": f"https://alpha.example/story/{i}", "source": "Alpha",
            "text": page(f"Harbour story number {i}", story(f"story-{i}", paragraphs=6), "Alpha News")}


def edited(i, how):
    """A copy of story ``i`` on another site: other chrome, a new headline, and one more edit."""
    paragraphs = story(f"story-{i}", paragraphs=6)
    if how == "cut":
        paragraphs = paragraphs[:2] + paragraphs[3:]
    elif how == "added":
        paragraphs = paragraphs + ["Additional reporting by our correspondents in the region, who spoke to "
                                   "officials and residents on condition of anonymity."]
    elif how == "typos":
        paragraphs = [p.replace(" the ", " teh ", 2) for p in paragraphs]
    return {"url": f"https://beta.example/{how}/{i}", "source": "Beta",
            "text": page(f"UPDATE: what we know about story {i}", paragraphs, "Beta Mirror")}


def fresh(i):
    return {"url": f"https://beta.example/new/{i}", "source": "Beta",
            "text": page(f"A new story {i}", story(f"fresh-{i}", paragraphs=5), "Beta Mirror")}
