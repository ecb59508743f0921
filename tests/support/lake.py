"""Reading a lake's Delta tables as an analyst would: DuckDB's delta_scan and Polars' read_delta."""
from __future__ import annotations

import os


def delta_rows(out, table, version=None, storage_options=None):
    """Every row of the Delta table ``out``/``table`` (at ``version``), read by Polars, as dicts."""
    import polars as pl

    uri = out if table is None else _join(out, table)
    return pl.read_delta(uri, version=version, storage_options=storage_options).to_dicts()


def duckdb_rows(out, table, query="SELECT * FROM t", version=None):
    """``query`` over ``t``, DuckDB's ``delta_scan`` of ``out``/``table`` (at ``version``), as dicts."""
    from transforms.io.lake import duckdb_with_delta

    con = duckdb_with_delta()
    pinned = f", version => {int(version)}" if version is not None else ""
    uri = _join(out, table).replace("'", "''")
    result = con.execute(query.replace("FROM t", f"FROM delta_scan('{uri}'{pinned})"))
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def _join(out, table):
    out = str(out)
    return f"{out.rstrip('/')}/{table}" if "://" in out else os.path.join(out, table)
