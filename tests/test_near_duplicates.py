"""The parts of near-duplicate detection: shingles, MinHash, banding, connected components."""
import random

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from benchmarks.corpora.textgen import story
from transforms.dedupe.components import ConnectedComponents, components_of
from transforms.config import ConfigError, DedupeConfig
from transforms.dedupe.minhash import (MinHashParams, band_keys, containment, exact_jaccard, pairs_in_bucket, signature,
                                similarity, words)

BODY = "\n\n".join(story("minhash-body", paragraphs=5))


def test_words_ignore_case_quotes_and_punctuation_and_split_scripts_without_spaces():
    assert words('He said: “We’ll see” — OK?') == words('he said "we\'ll see" - ok')
    assert words("北京时间 今天") == ["北", "京", "时", "间", "今", "天"]


def test_signature_is_deterministic_and_estimates_jaccard():
    params = MinHashParams(num_perm=256, bands=64)
    assert signature(BODY, params) == signature(BODY, params)
    edited = BODY.replace("\n\n", "\n\nAn added sentence for the copy.\n\n", 1)
    true = exact_jaccard(BODY, edited, 5)
    assert abs(similarity(signature(BODY, params), signature(edited, params)) - true) < 0.1
    assert similarity(signature(BODY), signature("\n\n".join(story("other")))) < 0.1
    assert signature("!!! ---") is None  # no words, no signature


@pytest.mark.slow
def test_signatures_are_the_same_in_another_process():
    import subprocess
    import sys

    code = ("from transforms.dedupe.minhash import signature; import sys; "
            "sys.stdout.write(signature(sys.stdin.read()).hex())")
    out = subprocess.run([sys.executable, "-c", code], input=BODY, capture_output=True, text=True, check=True)
    assert out.stdout == signature(BODY).hex()  # no salted hash(): the same on every worker


def test_containment_is_high_when_a_paragraph_is_cut():
    from transforms.dedupe.minhash import shingle_hashes

    cut = "\n\n".join(BODY.split("\n\n")[:3])
    jaccard = exact_jaccard(BODY, cut, 5)
    sizes = len(shingle_hashes(BODY, 5)), len(shingle_hashes(cut, 5))
    assert jaccard < 0.7 and containment(jaccard, *sizes) > 0.95


def test_band_keys_and_the_s_curve():
    params = MinHashParams(num_perm=120, bands=40)
    keys = band_keys(signature(BODY, params), params)
    assert len(keys) == 40 and len(set(keys)) == 40
    assert params.candidate_probability(0.5) > 0.99 and params.candidate_probability(0.1) < 0.05


def test_oversized_buckets_grow_linearly_not_quadratically():
    members = [f"r{i:05d}" for i in range(5000)]
    pairs = pairs_in_bucket(members, max_bucket=100)
    assert len(pairs) < 5000 * 10
    assert components_of(pairs) == {m: "r00000" for m in members}  # still one cluster
    assert len(pairs_in_bucket(members[:50], max_bucket=100)) == 50 * 49 // 2


def test_config_checks_permutations_against_bands():
    with pytest.raises(ConfigError, match="--near-permutations .* multiple of --near-bands"):
        DedupeConfig(permutations=100, bands=40)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_connected_components_match_union_find(runner_options, seed):
    rnd = random.Random(seed)
    edges = []
    for c in range(12):
        nodes = [f"c{c:02d}-{i:03d}" for i in range(rnd.randint(2, 30))]
        rnd.shuffle(nodes)
        shape = c % 3
        if shape == 0:  # a chain: the worst case for label propagation
            edges += list(zip(nodes, nodes[1:]))
        elif shape == 1:  # a clique: syndicated copies that all match each other
            edges += [(a, b) for a in nodes for b in nodes if a < b]
        else:
            edges += [(rnd.choice(nodes), rnd.choice(nodes)) for _ in range(2 * len(nodes))] + list(zip(nodes, nodes[1:]))
    want = sorted(components_of(edges).items())
    with TestPipeline(options=runner_options) as p:
        got = p | beam.Create(edges) | ConnectedComponents()
        assert_that(got, equal_to(want))


def test_components_the_rounds_leave_unjoined_are_joined_afterwards_and_counted(runner_options):
    from apache_beam.metrics.metric import MetricsFilter

    rnd = random.Random(5)
    nodes = [f"n{i:03d}" for i in range(200)]
    rnd.shuffle(nodes)
    chain = list(zip(nodes, nodes[1:]))  # one round is far from enough for a chain of 200
    other = [("x1", "x2"), ("x2", "x3")]
    p = TestPipeline(options=runner_options)
    labels = p | beam.Create(chain + other) | ConnectedComponents(rounds=1, namespace="cc")
    assert_that(labels, equal_to(sorted(components_of(chain + other).items())))
    result = p.run()
    result.wait_until_finish()
    (joined,) = result.metrics().query(MetricsFilter().with_namespace("cc").with_name(
        "components_joined_after_rounds"))["counters"]
    assert joined.committed > 0  # what the rounds left is said, not hidden


def test_words_ignore_invisible_characters():
    assert words("T\u200bhe c\u200bat\u200b sat, soft\u00adware\ufeff \u2066ok\u2069") == ["the", "cat", "sat", "software", "ok"]
    copy = "\u200b".join(BODY)
    assert signature(copy) == signature(BODY) and exact_jaccard(copy, BODY, 5) == 1.0
