-- The role the services run as (they SET ROLE to it after connecting): events may only be read
-- and appended. Roles are cluster-wide while migrations run per database, so creating it must
-- tolerate a concurrent creator.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'petitions_app') THEN
        CREATE ROLE petitions_app NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA eventstore TO petitions_app;
GRANT SELECT, INSERT ON eventstore.events TO petitions_app;
GRANT SELECT, INSERT, UPDATE ON eventstore.streams TO petitions_app;
GRANT SELECT, INSERT, UPDATE ON eventstore.subscriptions TO petitions_app;
