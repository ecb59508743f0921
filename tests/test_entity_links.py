"""Entities across a whole article (transforms.entity_links), without a model, and through the stage."""
import pytest

from transforms.entities import EntityConfig, load_model, tag_batch
from transforms.entity_links import Mention, link, ner_view
from transforms.records import Article


def spans(text, *pieces):
    """Mentions of each (piece, label), at the piece's first place in text at or after the last one."""
    out, at = [], 0
    for piece, label in pieces:
        start = text.index(piece, at)
        out.append(Mention(start, start + len(piece), label))
        at = start + 1
    return out


def linked(text, *pieces):
    return [(m.text, m.label, m.canonical) for m in link(text, spans(text, *pieces))]


def test_lines_in_capitals_are_recased_like_the_rest_of_the_article():
    body = ("MARKETS RALLY AS FED HOLDS RATES IN WASHINGTON\nPARIS, MAY 12\n"
            "The Fed held rates in Washington on Tuesday, and markets rally when it does.")
    view = ner_view(body)
    assert len(view) == len(body)
    # as a sentence: words as most often written elsewhere in the article ("Fed"), else in lower case
    assert view.splitlines()[0] == "Markets rally as Fed holds rates in Washington"
    assert view.splitlines()[1] == "Paris, May 12"  # a line of two words: a dateline, its words capitalised
    assert view.splitlines()[2] == body.splitlines()[2]
    plain = "No line here is in capitals.\nNot this one either, NATO aside."
    assert ner_view(plain) is plain


@pytest.mark.parametrize("piece,label,name", [
    ("the White House", "ORG", "White House"),
    ("The European Central Bank", "ORG", "European Central Bank"),
    ("The Hague", "GPE", "The Hague"),            # 'The' before one word is part of the name
    ("Maria Keller's", "PERSON", "Maria Keller"),
    ("Moody's", "ORG", "Moody's"),                # a brand's possessive is its name
    ("J. Okafor 4-43", "PERSON", "J. Okafor"),    # a score after a player
    ("7 Lena Brandt", "PERSON", "Lena Brandt"),   # a rank before her
    ("Channel 4", "ORG", "Channel 4"),            # an organisation or a place may end in a number
    ("Heathrow Terminal 5", "FAC", "Heathrow Terminal 5"),
    ("SPORT - ESSEX", "ORG", "ESSEX"),            # a section label before a spaced dash
    ("Elm Park (Leeds", "FAC", "Elm Park"),
])
def test_a_mention_is_the_name_alone(piece, label, name):
    text = f"Earlier, {piece} said so.\n"
    (mention,) = link(text, spans(text, (piece, label)))
    assert (mention.text, text[mention.start:mention.end]) == (name, name)


def test_a_mention_never_runs_across_a_line_break():
    text = "Kirby met Vela\nOn Monday it rained."
    assert linked(text, ("Vela\nOn Monday", "ORG")) == [("Vela", "ORG", "Vela")]


def test_one_name_one_label_in_an_article_the_majority_wins():
    text = "Derby won. Derby lost. Derby drew."
    got = linked(text, ("Derby", "ORG"), ("Derby", "GPE"), ("Derby", "ORG"))
    assert [label for _, label, _ in got] == ["ORG", "ORG", "ORG"]
    tie = linked("Brill won. Brill lost.", ("Brill", "PERSON"), ("Brill", "ORG"))
    assert [label for _, label, _ in tie] == ["PERSON", "PERSON"]  # the first mention breaks a tie


def test_a_name_found_once_is_found_everywhere_in_the_article():
    text = "Ssangyong Motor said on Monday sales rose. Analysts said Ssangyong Motor would gain."
    got = linked(text, ("Ssangyong Motor", "ORG"))
    assert got == [("Ssangyong Motor", "ORG", "Ssangyong Motor")] * 2
    assert linked("Anna Hall spoke. Hallways were full. Then Hall left.", ("Anna Hall", "PERSON"))[1:] == [
        ("Hall", "PERSON", "Anna Hall")]  # the surname alone, not inside another word


def test_short_names_are_the_person_named_in_full():
    text = "Jake Sullivan told reporters at the White House on Monday. Sullivan said Jake would return."
    got = linked(text, ("Jake Sullivan", "PERSON"), ("the White House", "ORG"), ("Sullivan", "ORG"),
                 ("Jake", "PERSON"))
    assert got == [("Jake Sullivan", "PERSON", "Jake Sullivan"), ("White House", "ORG", "White House"),
                   ("Sullivan", "PERSON", "Jake Sullivan"), ("Jake", "PERSON", "Jake Sullivan")]


def test_a_surname_two_people_share_stays_as_written():
    text = "Venus Williams beat Serena Williams. Williams said little."
    got = linked(text, ("Venus Williams", "PERSON"), ("Serena Williams", "PERSON"), ("Williams", "PERSON"))
    assert got[-1] == ("Williams", "PERSON", "Williams")


@pytest.fixture(scope="module")
def english():
    return load_model(EntityConfig().models["en"])


def test_the_stage_links_and_recases(english):
    body = ("PRESIDENT MEETS MACRON IN PARIS\n\n"
            "Joe Biden met Emmanuel Macron in Paris on Monday. Macron said the talks went well, "
            "and Biden agreed.")
    article = Article(article_id="a", source_file="f", text=body, content_hash="h", paragraphs=tuple(body.split("\n\n")),
                      language="en")
    (tagged,) = tag_batch([article], lambda lang: english, batch_size=1)
    names = {(e.text, e.canonical, e.label) for e in tagged.entities}
    assert ("Macron", "Emmanuel Macron", "PERSON") in names
    assert ("Biden", "Joe Biden", "PERSON") in names
    assert any(e.start < body.index("\n") and e.canonical == "Emmanuel Macron" for e in tagged.entities)  # headline
    for e in tagged.entities:
        assert body[e.start:e.end] == e.text


def test_numbers_and_dates_are_kept():
    text = "The stoppage is the first since 2019, and cost 25 million euros."
    got = linked(text, ("first", "ORDINAL"), ("2019", "DATE"), ("25 million euros", "MONEY"))
    assert [t for t, _, _ in got] == ["first", "2019", "25 million euros"]


def test_a_name_without_a_letter_is_no_name():
    text = "He finished 17th in the race."
    assert linked(text, ("17th", "ORG")) == [("17th", "ORG", "17th")]  # has letters: kept
    assert linked("It ended 1-0 on Sunday.", ("1-0", "ORG")) == []


def test_an_organisations_possessive_goes_only_when_the_article_writes_the_name_without_it():
    text = "Air France's pilots struck. Air France said flights would resume."
    assert linked(text, ("Air France's", "ORG"))[0] == ("Air France", "ORG", "Air France")
    text = "McDonald's said sales rose."
    assert linked(text, ("McDonald's", "ORG")) == [("McDonald's", "ORG", "McDonald's")]


def test_a_surname_alone_is_found_only_where_it_reads_as_a_name():
    text = ("Prime Minister Theresa May met reporters. Talks with May went on until late, "
            "and on May 3 they resume. May we ask? Leaders of May Day marches came too.")
    got = linked(text, ("Theresa May", "PERSON"))
    assert [(t, c) for t, _, c in got] == [("Theresa May", "Theresa May"), ("May", "Theresa May")]
    assert got[1] == ("May", "PERSON", "Theresa May") and text.index("with May") + 5 == link(
        text, spans(text, ("Theresa May", "PERSON")))[1].start


def test_a_first_name_links_only_what_the_model_took_for_a_person():
    text = "Paris Hilton flew to Paris on Monday."
    assert linked(text, ("Paris Hilton", "PERSON"), ("Paris", "GPE"))[1] == ("Paris", "GPE", "Paris")
    text = "Paris Hilton flew to Rome on Monday. Paris said she liked it."
    assert linked(text, ("Paris Hilton", "PERSON"), ("Paris", "PERSON"))[1] == ("Paris", "PERSON", "Paris Hilton")


def test_a_suffix_is_not_a_surname():
    text = "Martin Luther King Jr. spoke. Later King said Jr. was a title."
    got = linked(text, ("Martin Luther King Jr.", "PERSON"))
    assert [t for t, _, _ in got] == ["Martin Luther King Jr.", "King"]
