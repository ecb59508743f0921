#!/usr/bin/env python3
"""Named-entity recognition as the Entities stage does it, scored on a CoNLL-format file.

usage: python benchmarks/ner.py FILE [--json] [--sentences] [--model NAME] [--limit N] [--examples N]

FILE has one ``token ... TAG`` line per token (the tag in the last column, IOB1 as in CoNLL-2003,
or IOB2), blank lines between sentences and ``-DOCSTART-`` lines between documents (e.g.
``../shared/eval/ner/conll2003-eng.testa``). Each document becomes one article body (a sentence's
tokens joined by spaces, sentences by newlines) and goes through ``transforms.entities.tag_batch``
with the stage's model; ``--sentences`` tags every sentence as its own body instead. spaCy labels
are mapped to CoNLL's (PERSON->PER; GPE, LOC, FAC->LOC; ORG; NORP, EVENT, PRODUCT, WORK_OF_ART,
LAW, LANGUAGE->MISC; the others are dropped), and an entity counts when its token span and type
are exactly the gold one's; a prediction that starts or ends inside a token matches nothing.
Printed: precision, recall and F1 per type and overall, and the most frequent kinds of error. With
``--json`` the last line is one JSON object: ``f1``, ``precision``, ``recall``, ``per_type``.
"""
from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import time
from collections import Counter

from transforms.config import DEFAULT_NER_MODELS, EntityConfig
from transforms.entities import load_model, tag_batch
from transforms.records import Article

TYPES = ("PER", "LOC", "ORG", "MISC")
CONLL_TYPE = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "ORG": "ORG",
              **{label: "MISC" for label in ("NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE")}}


def read_conll(path: str) -> list[list[list[tuple[str, str]]]]:
    """Documents, each a list of sentences, each a list of (token, tag)."""
    docs, sentence = [[]], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if parts and parts[0] == "-DOCSTART-":
                docs.append([])
            elif parts:
                sentence.append((parts[0], parts[-1]))
            if (not parts or parts[0] == "-DOCSTART-") and sentence:
                docs[-1].append(sentence)
                sentence = []
    if sentence:
        docs[-1].append(sentence)
    return [doc for doc in docs if doc]


def decode(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, type) token spans of IOB1 or IOB2 tags: I-X after O or another type starts an
    entity, B-X always does."""
    spans, start, kind = [], None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, typ = tag.partition("-")
        if start is not None and (tag == "O" or prefix == "B" or typ != kind):
            spans.append((start, i, kind))
            start = None
        if tag != "O" and start is None:
            start, kind = i, typ
    return spans


def build_unit(sentences):
    """Body text, each token's start and end offset, and the gold (start, end, type) token spans."""
    lines, starts, ends, gold, at = [], [], [], [], 0
    for sentence in sentences:
        gold += [(len(starts) + a, len(starts) + b, typ) for a, b, typ in decode([tag for _, tag in sentence])]
        for token, _ in sentence:
            starts.append(at)
            ends.append(at + len(token))
            at += len(token) + 1  # the space or newline after it
        lines.append(" ".join(token for token, _ in sentence))
    return "\n".join(lines), starts, ends, gold


def token_span(text: str, starts: list[int], ends: list[int], start: int, end: int):
    """The tokens a char span covers (whitespace stripped), and whether it falls on their boundaries."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    a = max(bisect.bisect_right(starts, start) - 1, 0)
    b = max(bisect.bisect_left(ends, end) + 1, a + 1)
    return a, b, starts[a] == start and ends[b - 1] == end


def ratios(correct: int, gold: int, predicted: int) -> dict:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sentences", action="store_true", help="tag each sentence as its own document")
    parser.add_argument("--model", default=DEFAULT_NER_MODELS["en"], help="spaCy model package (default: %(default)s)")
    parser.add_argument("--limit", type=int, help="only the first N documents")
    parser.add_argument("--examples", type=int, default=0, help="print N examples of each frequent error kind")
    args = parser.parse_args()
    docs = read_conll(args.file)[:args.limit]
    groups = [[s] for doc in docs for s in doc] if args.sentences else docs
    units = [build_unit(group) for group in groups]
    articles = [Article(article_id=f"conll-{i}", source_file=args.file, text=text, language="en",
                        content_hash=hashlib.sha256(text.encode()).hexdigest(), paragraphs=(text,))
                for i, (text, *_) in enumerate(units)]
    assert all(a.body == u[0] for a, u in zip(articles, units)), "Article.body is not the text given"
    nlp = load_model(args.model)
    began = time.perf_counter()
    tagged = tag_batch(articles, lambda lang: nlp if lang == "en" else None, EntityConfig(models={}).batch_size)
    seconds = time.perf_counter() - began

    gold = {(u, a, b, typ) for u, unit in enumerate(units) for a, b, typ in unit[3]}
    exact, loose, odd, crossing = set(), [], [], 0  # loose: (unit, a, b, type) covering an off-boundary prediction
    for u, (article, (text, starts, ends, _)) in enumerate(zip(tagged, units)):
        for e in article.entities:
            a, b, on_boundary = token_span(text, starts, ends, e.start, e.end)
            typ = CONLL_TYPE.get(e.label)
            if typ is None:
                continue
            crossing += "\n" in text[e.start:e.end].strip()
            if on_boundary:
                exact.add((u, a, b, typ))
            else:
                loose.append((u, a, b, typ))
                odd.append(f"{text[e.start:e.end]!r} in {text[starts[a]:ends[b - 1]]!r}")
    correct = gold & exact

    errors, examples = Counter(), {}

    def words(u, a, b):
        text, starts, ends, _ = units[u]
        return text[starts[a]:ends[b - 1]]

    def note(kind, u, a, b, gold_span=None):
        errors[kind] += 1
        shown = f"{words(u, a, b)!r}" + (f" (gold {words(u, *gold_span[1:3])!r})" if gold_span else "")
        examples.setdefault(kind, []).append(shown)

    by_unit: dict[int, list] = {}
    for span in sorted(gold):
        by_unit.setdefault(span[0], []).append(span)
    for u, a, b, typ in sorted(exact - correct) + loose:
        same = [g for g in by_unit.get(u, ()) if g[1:3] == (a, b)]
        near = [g for g in by_unit.get(u, ()) if g[1] < b and a < g[2]]
        if same and (u, a, b, typ) in exact:
            note(f"type {same[0][3]}->{typ}", u, a, b)
        elif near:
            kind = typ if any(g[3] == typ for g in near) else near[0][3]
            note(f"boundary {typ}" if kind == typ else f"boundary {kind}->{typ}", u, a, b, near[0])
        else:
            note(f"spurious {typ}", u, a, b)
    predicted_tokens = {(u, t) for u, a, b, _ in list(exact) + loose for t in range(a, b)}
    for u, a, b, typ in gold - correct:
        if not any((u, t) in predicted_tokens for t in range(a, b)):  # else counted above (type or boundary)
            note(f"missed {typ}", u, a, b)

    predictions = [s[3] for s in exact] + [s[3] for s in loose]
    per_type = {}
    for typ in TYPES:
        n_gold, n_pred = sum(s[3] == typ for s in gold), predictions.count(typ)
        n_ok = sum(s[3] == typ for s in correct)
        per_type[typ] = {**ratios(n_ok, n_gold, n_pred), "gold": n_gold, "predicted": n_pred, "correct": n_ok}
    overall = ratios(len(correct), len(gold), len(predictions))

    n_sentences = sum(len(doc) for doc in docs)
    n_tokens = sum(len(s) for doc in docs for s in doc)
    print(f"{args.model} on {len(docs)} documents, {n_sentences} sentences, {n_tokens} tokens, tagged "
          f"{'sentence by sentence' if args.sentences else 'document by document'} in {seconds:.1f} s")
    print(f"\n{'type':5} {'gold':>6} {'pred':>6} {'correct':>7} {'P':>7} {'R':>7} {'F1':>7}")
    for typ, v in list(per_type.items()) + [("all", {**overall, "gold": len(gold), "predicted": len(predictions),
                                                      "correct": len(correct)})]:
        print(f"{typ:5} {v['gold']:6} {v['predicted']:6} {v['correct']:7} "
              f"{v['precision']:7.4f} {v['recall']:7.4f} {v['f1']:7.4f}")
    print("\nerrors: " + ", ".join(f"{kind} {n}" for kind, n in errors.most_common(15)))
    print(f"{crossing} predictions cross a sentence break; {len(loose)} are not on token boundaries"
          + (", e.g. " + "; ".join(odd[:5]) if odd else ""))
    for kind, _ in errors.most_common(15) if args.examples else ():
        print(f"  {kind}: " + "; ".join(examples[kind][:: max(1, len(examples[kind]) // args.examples)][:args.examples]))
    if args.json:
        print(json.dumps({**overall, "per_type": per_type, "documents": len(docs), "sentences": n_sentences,
                          "tokens": n_tokens, "seconds": round(seconds, 2), "model": args.model,
                          "sentences_mode": args.sentences, "off_boundary": len(loose), "cross_sentence": crossing,
                          "errors": dict(errors.most_common(15))}))


if __name__ == "__main__":
    main()
