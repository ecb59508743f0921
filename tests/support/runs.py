"""Input written to a folder, the pipeline run in process as the command line runs it, and an output
read back byte for byte."""
from __future__ import annotations

import glob
import json
import os

from benchmarks.corpora.hostile import article
from support import TEST_RUNNER


def write_articles(folder, n, prefix="case"):
    """``n`` text files of one article each, ``<prefix>-000.txt`` ..., each a different story."""
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, f"{prefix}-{i:03d}.txt"), "w", encoding="utf-8") as handle:
            handle.write(f"Harbour bridge report {prefix} {i}\n\n" + article(f"{prefix}-{i}"))


def write_pages(folder, records):
    """``records`` as ``folder``/pages.jsonl; returns ``folder``."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "pages.jsonl"), "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return folder


def run_dated(inputs, lake, date, *flags):
    """``newsbeam run`` of ``inputs`` into ``lake`` for ``date``, in process and without NER; its exit code."""
    from pipelines import articles

    return articles.main(["--input", str(inputs), "--output", str(lake), "--date", date, f"--runner={TEST_RUNNER}",
                          "--ner-model", "en=", *flags])


def snapshot(folder):
    """{path relative to ``folder``: bytes} of every file below ``folder``."""
    return {os.path.relpath(p, folder): open(p, "rb").read()
            for p in glob.glob(os.path.join(folder, "**", "*"), recursive=True) if os.path.isfile(p)}
