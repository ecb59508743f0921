"""The ``newsbeam`` command: ``newsbeam run [flags]`` runs the articles job."""
from __future__ import annotations

import logging
import sys
from typing import Optional, Sequence

USAGE = """usage: newsbeam run [--input PATH ...] [--output DIR] [options] [Beam pipeline flags]

commands:
  run    read raw news page text, dedupe, clean, detect language, extract entities, write Parquet
         ('newsbeam run --help' lists the options)
"""


def quiet_known_import_noise() -> None:
    """Beam warns on import that optional GCP client libraries are missing; newsbeam never uses them."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: "apitools not found" not in record.getMessage())
    logging.getLogger("newsbeam").setLevel(logging.INFO)  # progress lines, see transforms/progress.py


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        quiet_known_import_noise()
        from pipelines import articles

        return articles.main(rest)
    print(f"newsbeam: unknown command {command!r}\n{USAGE}", file=sys.stderr, end="")
    return 2


if __name__ == "__main__":
    sys.exit(main())
