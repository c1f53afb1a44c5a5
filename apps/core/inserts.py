"""Rows of several tables written in one statement (one round trip) on PostgreSQL.

``write_together`` inserts unsaved model instances that refer to each other (a new
conversation, its first message and its first event) and may end with one UPDATE of an
existing row (the conversation's last message). On PostgreSQL it is a single statement of
data-modifying CTEs: the primary keys are drawn from the tables' sequences first, so rows
can name each other (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at
commit). Elsewhere (SQLite, embedded mode) the same rows are written one statement each,
in order; the result is the same.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery


@dataclass
class Ref:
    """``row.<attname>`` is set to ``target``'s primary key once it has one."""

    row: Model
    attname: str
    target: Model


@dataclass
class Update:
    """``UPDATE model SET values WHERE pk = pk`` after the inserts; a value that is a model
    instance stands for its primary key."""

    model: type[Model]
    pk: int
    values: dict = field(default_factory=dict)


def write_together(rows: list[Model], refs: list[Ref] = (), update: Update | None = None):
    """Insert ``rows`` (unsaved, in this order), link ``refs``, then apply ``update``.
    Afterwards every row has its primary key and reads as saved."""
    if connection.vendor == "postgresql":
        _write_in_one_statement(rows, refs, update)
    else:
        _write_one_by_one(rows, refs, update)
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


def _write_one_by_one(rows, refs, update) -> None:
    written: set[int] = set()
    later = []
    for row in rows:
        for ref in refs:
            if ref.row is row:
                if id(ref.target) in written:
                    setattr(row, ref.attname, ref.target.pk)
                else:
                    later.append(ref)  # a target inserted after this row
        row.save(force_insert=True)
        written.add(id(row))
    for ref in later:
        type(ref.row)._base_manager.filter(pk=ref.row.pk).update(
            **{ref.attname: ref.target.pk}
        )
    _link(refs)
    if update is not None:
        values = {k: (v.pk if isinstance(v, Model) else v) for k, v in update.values.items()}
        update.model._base_manager.filter(pk=update.pk).update(**values)


def _write_in_one_statement(rows, refs, update) -> None:
    quote = connection.ops.quote_name
    names = {id(row): f"k{n}" for n, row in enumerate(rows)}

    def key_of(row) -> RawSQL:
        return RawSQL(f"SELECT {names[id(row)]} FROM ids", [])

    sequences = ", ".join(
        f"nextval(pg_get_serial_sequence('{row._meta.db_table}', '{row._meta.pk.column}'))"
        f" AS {names[id(row)]}"
        for row in rows
    )
    parts, params = [f"ids AS (SELECT {sequences})"], []
    for row in rows:
        row.pk = key_of(row)
    for ref in refs:
        setattr(ref.row, ref.attname, key_of(ref.target))
    for n, row in enumerate(rows):
        sql, row_params = _insert_sql(row)
        parts.append(f"w{n} AS ({sql})")
        params += row_params
    final = "SELECT " + ", ".join(names[id(row)] for row in rows) + " FROM ids"
    if update is not None:
        assignments, update_params = [], []
        for name, value in update.values.items():
            column = update.model._meta.get_field(name).column
            if isinstance(value, Model):
                assignments.append(f"{quote(column)} = (SELECT {names[id(value)]} FROM ids)")
            else:
                assignments.append(f"{quote(column)} = %s")
                update_params.append(
                    update.model._meta.get_field(name).get_db_prep_save(value, connection)
                )
        table = quote(update.model._meta.db_table)
        pk_column = quote(update.model._meta.pk.column)
        parts.append(
            f"u AS (UPDATE {table} SET {', '.join(assignments)} WHERE {pk_column} = %s)"
        )
        params += [*update_params, update.pk]
    with connection.cursor() as cursor:
        cursor.execute("WITH " + ", ".join(parts) + " " + final, params)
        keys = cursor.fetchone()
    for row, key in zip(rows, keys, strict=True):
        row.pk = key
    _link(refs)


def _link(refs) -> None:
    """Each reference as Django's own assignment leaves it: the key and the object."""
    for ref in refs:
        relation = next(f for f in ref.row._meta.concrete_fields if f.attname == ref.attname)
        setattr(ref.row, relation.name, ref.target)


def _insert_sql(row: Model) -> tuple[str, list]:
    """The INSERT Django would send for ``row`` (defaults, auto_now_add and the rest
    applied to the instance), with no RETURNING."""
    query = InsertQuery(type(row))
    query.insert_values(row._meta.local_concrete_fields, [row])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)
