"""The ``newsbeam`` command: ``newsbeam run [flags]`` runs the articles job."""
from __future__ import annotations

import sys
from typing import Optional, Sequence

USAGE = """usage: newsbeam run [--input PATH ...] [--output DIR] [options] [Beam pipeline flags]

commands:
  run    read raw news page text, dedupe, clean, detect language, extract entities, write Parquet
         ('newsbeam run --help' lists the options)
"""


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        from pipelines import articles

        return articles.main(rest)
    print(f"newsbeam: unknown command {command!r}\n{USAGE}", file=sys.stderr, end="")
    return 2


if __name__ == "__main__":
    sys.exit(main())
