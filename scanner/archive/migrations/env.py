"""Alembic's entry point for the catalog's migrations.

The program runs these itself when it opens a catalog
(``scanner.archive.catalog.migrate``), handing over its own connection,
already inside the transaction that holds the write lock, so the upgrade and
the program's first write can't interleave with another process.

A developer writing a new revision runs alembic by hand against a scratch
catalog, with a two-line ini naming this folder::

    printf '[alembic]\nscript_location = scanner/archive/migrations\n' > /tmp/dev.ini
    alembic -c /tmp/dev.ini -x url=sqlite:////tmp/dev.sqlite upgrade head
    alembic -c /tmp/dev.ini -x url=sqlite:////tmp/dev.sqlite revision --autogenerate -m "…"

and ``alembic … check`` says whether ``schema.py`` and the revisions agree.
A new revision guards whatever one engine spells its own way (see 0001).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from scanner.archive.catalog.schema import metadata

connection = context.config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("cho biết danh mục: alembic -x url=sqlite:///đường/dẫn … (name the catalog with -x url=…)")
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
