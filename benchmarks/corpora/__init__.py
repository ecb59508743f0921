"""Generated input, seeded (the same call writes the same bytes), for the benchmarks and the tests.

textgen: distinct prose-shaped text per key. generated: news-like pages with duplicates and bad
records (runner equivalence). hostile: files built to break a reader, and what must become of each.
"""
