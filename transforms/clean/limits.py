"""Every number the line rules use, in one place.

``LIMITS`` is the one instance the rules read. Word counts are those of ``word_count`` (a
Chinese, Japanese or Thai character counts as half a word); lengths are in characters.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Thresholds of the line rules; each field says what it bounds."""

    # --- How much of a line the expensive checks look at
    scan: int = 400                 # characters of a line searched for phrases and list separators
    date_scan: int = 160            # characters of a line searched for a date
    date_before_year: int = 40      # a date is looked for from this many characters before a year ...
    date_after_year: int = 30       # ... to this many characters after it
    phrase_gap: int = 120           # characters between the parts of 'cookie ... accept', 'For ... visit'
    publisher_gap: int = 60         # characters for each name in 'is part of X, a Y media company'
    remembered_line_max: int = 300  # lines this long or shorter are described once per process ...
    remembered_lines: int = 20_000  # ... up to this many distinct lines (menus and footers recur)

    # --- Sizes of kinds of lines
    meta_max: int = 160             # a byline or a date line is at most this long
    label_max: int = 80             # a menu item, button or widget heading is at most this long
    prefix_line_max: int = 200      # only lines this long are checked for labels and label-like starts
    title_max: int = 300            # a headline (or a caption) is at most this long
    title_line_max: int = 600       # a <title> line or title hint (headline, site names) is at most this long
    prose_words: int = 8            # a line of at least this many words that ends a sentence is prose
    long_words: int = 20            # a line of at least this many words is prose whatever its end
    sentence_min_words: int = 4     # a sentence this long (not a list) is worth 0 rather than a penalty

    # --- Lines that start like a label ('See also ...'), by the most words they may have
    see_also_words: int = 30        # 'See also: ...', 'On CNN.com: ...'
    more_prefix_words: int = 8      # 'More stories from ...', 'You may also like ...' (widget heading)
    widget_prefix_words: int = 3    # 'Most popular ...', 'Trending ...' (widget heading)
    share_prefix_words: int = 12    # 'Share via email', 'Click to share on Twitter'
    newsletter_words: int = 15      # a short line naming a newsletter is a subscription prompt
    follow_words: int = 20          # 'Follow us on ...'
    about_words: int = 6            # 'About Jane Doe' (author box)
    comment_count_words: int = 16   # '12 comments', 'One thought on ...'
    social_min_tokens: int = 2      # a line of this many words or more, all social network names: share bar
    short_phrase_words: int = 40    # subscription and promotion phrases only count in lines this short

    # --- Breadcrumbs
    breadcrumb_max_words: int = 20      # a breadcrumb is at most this many words
    breadcrumb_bare_max_words: int = 12  # ... and at most this many when it does not start with 'Home'
    breadcrumb_home_min_separators: int = 1  # 'Home > News': separators a trail from 'Home' needs
    breadcrumb_min_separators: int = 2  # 'A > B > C': separators any other trail needs
    breadcrumb_min_glued: int = 2       # 'HomeTop StoriesThe US': glued words a 'Home...' line needs

    # --- Lists ('A | B | C', 'tag, tag, tag, tag', tag clouds)
    list_min_bars: int = 2          # at least this many ' | ', ' • ' or ' · ' separators ...
    list_words_per_bar: int = 6     # ... with at most this many words per item
    list_min_dashes: int = 4        # at least this many ' - ' separators ...
    list_words_per_dash: int = 5    # ... with at most this many words per item
    list_min_commas: int = 4        # at least this many commas in a line not ending a sentence ...
    list_words_per_comma: int = 3   # ... with at most this many words per comma ...
    list_comma_words_cap: int = 60  # ... counting at most this many words

    # --- Bylines, names and date lines
    byline_max_words: int = 14      # a byline is at most this many words ...
    byline_sentence_words: int = 6  # ... and at most this many when it ends like a sentence
    name_max_tokens: int = 6        # a person's or agency's name is one to this many words
    name_line_max: int = 60         # a line that is only a name is at most this long ...
    name_line_min_tokens: int = 2   # ... and has at least this many words
    date_line_other_words: int = 6  # a date line has at most this many words besides the date
    author_name_min_spaces: int = 1  # a byline name needs this many spaces to be found in an author box

    # --- Titles
    title_search: int = 2000        # the title is looked for in this many first lines
    glue_window: int = 30           # a headline's glued copy is at most this many lines before it
    max_site_parts: int = 4         # at most this many site names are cut from the end of a title
    site_name_max_chars: int = 40   # a site name cut from a title is at most this long ...
    site_name_max_spaces: int = 4   # ... and has at most this many spaces (five words)
    headline_min_words: int = 2     # a headline has at least this many words ...
    headline_max_words: int = 30    # ... and at most this many
    title_part_share: float = 0.4   # a line inside the <title> line, this share of it long, is a copy
    title_min_words: int = 3        # a title needs this many words to be matched by shared words ...
    title_word_ratio: int = 2       # ... by a line of at most this many times its words ...
    title_extra_words: int = 3      # ... plus this many words ...
    title_shared_share: float = 0.75  # ... sharing at least this share of its words
    glued_min_words: int = 3        # a headline found through a glued copy has at least this many words
    title_copy_min_chars: int = 15  # a title this long ...
    title_copy_min_spaces: int = 2  # ... with this many spaces is recognised inside a longer line ...
    title_copy_extra_chars: int = 80  # ... of at most its length plus this many characters

    # --- The main run of prose (line values are in words)
    line_cost: float = 6.0          # every line costs this many words: one-sentence teasers do not pay
    short_penalty: float = 8.0      # cost of including a short, link-like line in the main run
    widget_penalty: float = 12.0    # cost of including a widget heading or a subscription prompt
    barrier: float = 60.0           # comment forms, footers: the article does not run across them
    interruption_penalty: float = 3.0  # cost of a 'See also ...' box or an ad label inside the article
    heading_penalty: float = 3.0    # cost of a short plain line right before a paragraph (a subheading)
    heading_max_words: int = 12     # a subheading is at most this many words
    comments_after: float = 40.0    # prose words after the title that make a comment marker final
    isolated_share: float = 0.5     # weight of a prose line between two non-prose lines
    near_share: float = 0.1         # the run after the headline must hold this share of the best run
    first_run_lines: int = 10       # a run starting this close after the headline ...
    first_run_share: float = 0.3    # ... with this share of the densest run after it, and apart from it, wins
    list_words: float = 4.0         # a list of the article has items this long on average
    list_after_min_lines: int = 2   # a list after the article's last paragraph has this many lines or more
    max_short_run: int = 2          # longer runs of short lines inside the article are link lists

    # --- Counting words
    cjk_char_words: float = 0.5     # a Chinese, Japanese or Thai character counts as this many words


LIMITS = Limits()
