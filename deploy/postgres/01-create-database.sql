-- Run once by the official postgres image on an empty data volume
-- (/docker-entrypoint-initdb.d). Only the database is made here: the one-shot `migrate`
-- service (python -m petitions.migrate) applies the schema as its owner and makes the
-- services' own login, petitions_service, which may not change the schema.
--
-- Guarded so it also works if someone sets POSTGRES_DB=petitions. UTF8 from
-- template0 because petition text is Chinese and must not depend on the
-- cluster's default encoding.
SELECT 'CREATE DATABASE petitions ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'petitions')
\gexec
