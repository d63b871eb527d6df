"""The reporting database's migrations: the ``reporting`` schema. Its tables come from
``reporting/projections/schema.sql`` (see :func:`reporting.projections.tables.migrate`), so
that a rebuild creates its fresh tables from the very same text."""
