"""Dedupe: exact copies, updates and near-copies collapse into one canonical article per story."""
import json
from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from benchmarks.corpora.textgen import story
from transforms.config import DedupeConfig, RunConfig
from transforms.dedupe.rules import canonical_order, decide, fingerprint, version_order
from transforms.dedupe.stage import Dedupe
from transforms.records import Article
from transforms.text import content_hash
from transforms.validate import canonical_url

WIRE = story("wire-story")  # one wire story, four paragraphs


def art(aid, paragraphs=WIRE, url=None, day=None, line=None, source_file="f", source=None):
    paragraphs = tuple(paragraphs)
    text = "\n".join(paragraphs)
    return Article(article_id=aid, source_file=source_file, source_line=line, url=url, canonical_url=canonical_url(url),
                   source=source, text=text, content_hash=content_hash(text), paragraphs=paragraphs,
                   published_at=datetime(2024, 1, day, tzinfo=timezone.utc) if day else None)


def edited(paragraphs, headline=None, cut=None, add=None, typo=False, curly=False):
    """A syndicated copy of ``paragraphs``: a paragraph cut or added, a typo, other quote marks."""
    out = list(paragraphs)
    if cut is not None:
        del out[cut]
    if add is not None:
        out.insert(1, add)
    if typo:
        out[0] = out[0].replace("e", "a", 2)
    if curly:
        out = [p.replace('"', "\u201c") for p in out]
    return out


def run_dedupe(runner_options, articles, config=RunConfig()):
    """(kept {id: (cluster_id, copies)}, duplicates {id: (duplicate_of, cluster_id, method, reason,
    similarity)}) of a Dedupe run; every input record comes out exactly once."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/rows.jsonl"
        with TestPipeline(options=runner_options) as p:
            out = p | beam.Create(articles) | Dedupe(config)
            kept = out.articles | "Kept" >> beam.Map(lambda a: json.dumps(["K", a.article_id, a.cluster_id, a.copies]))
            dups = out.duplicates | "Dups" >> beam.Map(lambda d: json.dumps(
                ["D", d.article_id, d.duplicate_of, d.cluster_id, d.method, d.reason, d.similarity]))
            _ = (kept, dups) | beam.Flatten() | beam.io.WriteToText(path, shard_name_template="")
        with open(path, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
    assert len(rows) == len(articles)
    kept = {r[1]: (r[2], r[3]) for r in rows if r[0] == "K"}
    dups = {r[1]: tuple(r[2:]) for r in rows if r[0] == "D"}
    return kept, dups


# --------------------------------------------------------------------------------------
# Orders (pure)

def kept_of(*articles):
    """The article_id of the one article kept from ``articles`` (exact links only)."""
    fps = [fingerprint(a) for a in articles]
    verdicts = decide(fps)
    (kept,) = [fp.article_id for fp in fps if fp.rk not in verdicts]
    return kept, verdicts


def test_canonical_is_earliest_then_longest_then_smallest_id():
    copies = [art("b", day=3), art("c", day=2, line=2), art("a", line=3), art("d", WIRE[:2], day=2, line=4)]
    assert min(map(fingerprint, copies), key=canonical_order).article_id == "c"  # 'd' is as early, shorter
    copies = [art("b"), art("a", line=2), art("z", WIRE + ["One more paragraph of the story."], line=3)]
    assert min(map(fingerprint, copies), key=canonical_order).article_id == "z"  # no dates: the longest body


def test_identical_pages_keep_the_first_by_path_wherever_the_folder_is():
    for root in ("/home/a/seeds", "/tmp/ci-clone-9f3/seeds", "gs://bucket/in"):
        pages = [art("same", source_file=f"{root}/{name}") for name in ("z-page.txt", "m-mirror.txt", "b-copy.txt")]
        (kept,) = [fp for fp in map(fingerprint, pages) if fp.rk not in decide(map(fingerprint, pages))]
        assert kept.source_file == f"{root}/b-copy.txt"


def test_an_update_keeps_the_newest_version_of_the_url():
    v2 = WIRE[:3] + ["The last paragraph, rewritten for the second version."]
    url = "https://wire.example/1"
    kept, _ = kept_of(art("v1", url=url, day=1), art("v2", v2, url=url, day=2, line=2),
                      art("mirror", url="https://mirror.example/1", day=1, line=3))
    assert kept == "v2"
    # The same content fetched twice is not an update: the first appearance stays.
    kept, _ = kept_of(art("first", url=url, day=1), art("refetch", url=url, day=3, line=2))
    assert kept == "first"
    assert min(map(fingerprint, [art("undated", v2, url=url, line=5), art("v1", url=url, day=1)]),
               key=version_order).article_id == "v1"  # a dated version beats an undated one


def test_invisible_characters_neither_hide_a_copy_nor_make_it_the_longest():
    copy = [p.replace(" ", "\u200b ") for p in WIRE]
    original, padded = fingerprint(art("orig", line=2)), fingerprint(art("zwsp", copy, line=1))
    assert (padded.body_hash, padded.body_chars, padded.signature) == (
        original.body_hash, original.body_chars, original.signature)
    kept, verdicts = kept_of(art("zwsp", copy, line=1), art("orig", line=2))
    assert kept == "orig" and [v[3:5] for v in verdicts.values()] == [("content", "same_content")]


# --------------------------------------------------------------------------------------
# The transform

def test_exact_copies_updates_and_near_copies(runner_options):
    other = story("other-story")
    inputs = [
        art("orig", WIRE, url="https://wire.example/1", day=2, source="wire"),
        art("mirror", WIRE, url="https://mirror.example/a", day=3),  # same body, other site: same_content
        art("synd", edited(WIRE, cut=2, typo=True, curly=True), url="https://daily.example/x", day=4),  # near
        art("later", edited(WIRE, add="An editor's note added below the lead of the story."), day=5),  # near
        art("u-old", other, url="https://x.org/2?utm_source=rss", day=1),
        art("u-new", other[:3] + ["A corrected last paragraph replaces the old one."], url="http://www.x.org/2", day=6),
        art("alone", story("unrelated")),
    ]
    kept, dups = run_dedupe(runner_options, inputs)
    assert kept == {"orig": ("orig", 3), "u-new": ("u-new", 1), "alone": ("alone", 0)}
    assert dups["mirror"][:4] == ("orig", "orig", "content", "same_content") and dups["mirror"][4] == 1.0
    assert dups["synd"][:4] == ("orig", "orig", "near", "near_duplicate") and 0.5 <= dups["synd"][4] < 1
    assert dups["later"][:4] == ("orig", "orig", "near", "near_duplicate")
    assert dups["u-old"][:4] == ("u-new", "u-new", "url", "superseded")


def test_a_copy_of_a_superseded_version_names_the_latest(runner_options):
    v2 = WIRE[:3] + ["The final paragraph was rewritten for the second version of the story."]
    inputs = [
        art("v1", WIRE, url="https://wire.example/1", day=1),
        art("v2", v2, url="https://wire.example/1", day=2),  # the update
        art("copy-of-v1", WIRE, url="https://mirror.example/9", day=1),  # same content as v1
    ]
    kept, dups = run_dedupe(runner_options, inputs, RunConfig(dedupe=DedupeConfig(near=False)))
    assert kept == {"v2": ("v2", 2)}
    assert dups["v1"][:4] == ("v2", "v2", "url", "superseded")
    assert dups["copy-of-v1"][:4] == ("v2", "v2", "content", "superseded")  # a copy of the earlier version


def test_the_same_publisher_id_again_is_an_update(runner_options):
    inputs = [art("story-1", WIRE, day=2), art("story-1", WIRE[:2] + ["Updated ending of the story here."], day=3,
                                                line=2),
              art("story-2", story("second"))]
    kept, dups = run_dedupe(runner_options, inputs, RunConfig(dedupe=DedupeConfig(near=False)))
    assert sorted(kept) == ["story-1", "story-2"] and [d[2:4] for d in dups.values()] == [("id", "superseded")]


def test_a_thousand_identical_pages_keep_one(runner_options):
    page = ["Access denied. You do not have permission to view this page on this server."]
    inputs = [art(f"p{i:04d}", page, source_file=f"f{i:04d}.txt") for i in range(1000)]
    kept, dups = run_dedupe(runner_options, inputs)
    assert kept == {"p0000": ("p0000", 999)}
    assert {d[:4] for d in dups.values()} == {("p0000", "p0000", "content", "same_content")}


def test_distinct_stories_are_never_merged(runner_options):
    # 150 different stories, several sharing their first paragraph (a common lead) or a
    # boilerplate-like closing line: related, not copies.
    shared_lead = story("common-lead")[0]
    inputs = []
    for i in range(150):
        body = story(f"distinct-{i}")
        if i % 5 == 0:
            body = [shared_lead] + body
        inputs.append(art(f"s{i:03d}", body + ["Follow our live coverage for updates on this story."], day=1 + i % 28,
                          source_file=f"s{i:03d}.txt"))
    kept, dups = run_dedupe(runner_options, inputs)
    assert len(kept) == 150 and dups == {}


def test_thresholds_are_flags_and_near_can_be_turned_off(runner_options):
    inputs = [art("orig", WIRE, day=1), art("synd", edited(WIRE, cut=1, typo=True), day=2, source_file="g")]
    kept, _ = run_dedupe(runner_options, inputs, RunConfig(dedupe=DedupeConfig(near=False)))
    assert sorted(kept) == ["orig", "synd"]
    kept, _ = run_dedupe(runner_options, inputs, RunConfig(dedupe=DedupeConfig(threshold=0.99, containment=1.0)))
    assert sorted(kept) == ["orig", "synd"]
    kept, dups = run_dedupe(runner_options, inputs)
    assert sorted(kept) == ["orig"] and dups["synd"][2] == "near"


def test_ids_are_scoped_by_publisher(runner_options):
    """Two publishers both number their stories from "1": both stories are kept. The same
    publisher sending its "1" again with new text is an update of it."""
    from transforms.clean.stage import CleanText
    from transforms.records import RawRecord
    from transforms.validate import ValidateArticles

    def line(n, obj):
        obj["text"] = "\n\n".join(story(obj.pop("story")))
        return RawRecord(source_file="feed.jsonl", source_line=n, format="jsonl", payload=json.dumps(obj))

    raws = [
        line(1, {"id": "1", "source": "Daily Planet", "story": "dam", "published_at": "2024-01-01"}),
        line(2, {"id": "1", "source": "Gotham Gazette", "story": "council"}),
        line(3, {"id": "1", "url": "https://www.tribune.example/a", "story": "cup", "published_at": "2024-01-01"}),
        line(4, {"id": "1", "url": "https://tribune.example/b", "story": "cup-again", "published_at": "2024-01-02"}),
        line(5, {"id": "1", "source": "daily  planet", "story": "dam-fixed", "published_at": "2024-01-02"}),
    ]
    with TestPipeline(options=runner_options) as p:
        valid = p | beam.Create(raws) | ValidateArticles()
        out = (valid.articles | CleanText()).articles | Dedupe()
        assert_that(out.articles | "Kept" >> beam.Map(lambda a: (a.source_line, a.given_id)),
                    equal_to([(2, "1"), (4, "1"), (5, "1")]), label="Kept")
        # line 3 is the tribune's id "1" again (publisher from the URL's host); line 1 the Planet's
        assert_that(out.duplicates | "Dups" >> beam.Map(lambda d: (d.source_line, d.given_id, d.reason)),
                    equal_to([(1, "1", "superseded"), (3, "1", "superseded")]), label="Duplicates")


def test_ids_without_a_publisher_never_merge_different_bodies(runner_options):
    """A CMS export without source or URL numbers its stories from 1 in every file: the same id
    with another body is another story, in another file or in the same one. The same body under
    the same id is one article."""
    from transforms.clean.stage import CleanText
    from transforms.records import RawRecord
    from transforms.validate import ValidateArticles

    def line(path, n, given, key):
        payload = json.dumps({"id": given, "text": "\n\n".join(story(key))})
        return RawRecord(source_file=path, source_line=n, format="jsonl", payload=payload)

    raws = [line(f"{day}.jsonl", i, str(i), f"{day}-{i}") for day in ("monday", "tuesday") for i in (1, 2, 3)]
    raws += [line("monday.jsonl", 4, "1", "monday-other"), line("monday.jsonl", 5, "2", "monday-2")]
    with TestPipeline(options=runner_options) as p:
        valid = p | beam.Create(raws) | ValidateArticles()
        out = (valid.articles | CleanText()).articles | Dedupe()
        assert_that(out.articles | "Kept" >> beam.Map(lambda a: (a.source_file, a.source_line)),
                    equal_to([(f"{day}.jsonl", i) for day in ("monday", "tuesday") for i in (1, 2, 3)]
                             + [("monday.jsonl", 4)]), label="Kept")
        assert_that(out.duplicates | "Dups" >> beam.Map(lambda d: (d.source_line, d.given_id, d.method, d.reason)),
                    equal_to([(5, "2", "content", "same_content")]), label="Duplicates")


def test_an_update_is_followed_through_a_moved_url_and_a_new_id(runner_options):
    """A story moved from URL A to URL B under the same id, then re-sent under URL B with a new id:
    all three are versions of one publication and the newest is kept (found in review)."""
    v2, v3 = WIRE[:3] + ["A rewritten last paragraph of the second version."], WIRE[:3] + ["The third version."]
    inputs = [art("X", WIRE, url="https://a.example/1", day=1, line=1),
              art("X", v2, url="https://b.example/1", day=3, line=2),
              art("Y", v3, url="https://b.example/1", day=5, line=3)]
    kept, dups = run_dedupe(runner_options, inputs, RunConfig(dedupe=DedupeConfig(near=False)))
    assert kept == {"Y": ("Y", 2)} and {d[:2] for d in dups.values()} == {("Y", "Y")}
    kept_id, verdicts = kept_of(*inputs)  # the plain-function statement of the rules agrees
    assert kept_id == "Y"
    assert sorted(v[3:5] for v in verdicts.values()) == [("content", "superseded"), ("url", "superseded")]


def test_the_same_record_twice_is_kept_once(runner_options):
    a = art("x", WIRE, url="https://a.example/1", day=1, line=1)
    kept, dups = run_dedupe(runner_options, [a, a])
    assert kept == {"x": ("x", 1)} and list(dups.values()) == [("x", "x", "content", "same_content", 1.0)]


def test_an_oversized_bucket_of_near_identical_notices_is_one_story(runner_options):
    notice = story("notice", paragraphs=2)
    inputs = [art(f"n{i:04d}", notice + [f"Reference number {i} of the notice."], source_file=f"n{i:04d}.txt")
              for i in range(400)]
    kept, dups = run_dedupe(runner_options, inputs, RunConfig(dedupe=DedupeConfig(max_bucket=20)))
    assert len(kept) == 1 and len(dups) == 399 and {d[2] for d in dups.values()} == {"near"}
