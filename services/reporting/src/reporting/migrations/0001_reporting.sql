-- The read models' schema. Its tables are created from reporting/projections/schema.sql with
-- search_path set to it (reporting.projections.tables), the same way a rebuild creates the
-- fresh schema it swaps in; hence no table is named here.
CREATE SCHEMA IF NOT EXISTS reporting;
