-- Run once by the official postgres image on an empty data volume
-- (/docker-entrypoint-initdb.d). Only the database is made here: each service
-- applies its own schema migrations at start-up, so schema has one owner.
--
-- Guarded so it also works if someone sets POSTGRES_DB=petitions. UTF8 from
-- template0 because petition text is Chinese and must not depend on the
-- cluster's default encoding.
SELECT 'CREATE DATABASE petitions ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'petitions')
\gexec
