"""What the line rules return: reason codes, removed lines and the cleaned page."""
from __future__ import annotations

from dataclasses import dataclass

REASONS: dict[str, str] = {
    "breadcrumb": "navigation trail before the headline ('Home > News', 'HomeTop Stories...')",
    "repeated_title": "another copy of the headline, or the headline with the site name",
    "see_also": "link to another article inside the body ('See also ...', 'Lire aussi ...')",
    "ad_marker": "advertisement label ('Advertisement', 'Anzeige', 'Publicité')",
    "comment_form": "comment form or comment section text ('Please enter your comment!')",
    "widget_heading": "heading of a sidebar or list widget ('Most Popular', 'Recent Comments')",
    "promo": "self-promotion of the site ('For the latest news ... visit X', 'Follow us')",
    "subscribe": "newsletter, subscription or sign-in prompt",
    "share": "social sharing buttons ('Share', 'Tweet', 'Facebook')",
    "cookie_notice": "cookie or privacy consent banner",
    "footer": "legal footer ('All rights reserved', 'Privacy Policy', '(c) 2019 ...')",
    "read_more": "link to continue reading ('Read more', 'Weiterlesen')",
    "caption": "image caption or photo credit ('Photo: ...', 'Image credit: ...')",
    "dateline": "date line other than the one kept as the publication date",
    "author_bio": "box about the author or the site ('About Jane Doe', 'Jane Doe is a ...')",
    "byline_extra": "author line other than the byline kept, or author details",
    "navigation": "short link-like line outside the article (menus, link lists, tags)",
    "link_list": "line of a run of short lines inside the article (related links, menus)",
    "outside_main_text": "prose outside the article's main run of text (teasers, comments)",
    "no_text": "line with no letters or digits ('***', '|', '•')",
    "duplicate": "second copy of a line already kept in the body",
    "recurring_in_source": "line found on many pages of the same source in this run (menus, promos, footers)",
    "model_not_article": "line the rules kept but the line model scores as not part of the article",
}


@dataclass(frozen=True)
class RemovedLine:
    """A line of the page that is not part of the article body, with a ``REASONS`` code."""

    text: str
    reason: str


@dataclass(frozen=True)
class CleanResult:
    """What ``clean_page`` found in a page."""

    title: str | None
    paragraphs: tuple[str, ...]
    byline: str | None
    published: str | None
    removed: tuple[RemovedLine, ...]

    @property
    def body(self) -> str:
        """The article body: paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)
