-- The services may log in as a role of their own (a member of petitions_app, see
-- petitions.migrate) and no longer migrate at start-up: they only check that every migration
-- was applied, which needs reading the bookkeeping.
GRANT SELECT ON public.petitions_migrations TO petitions_app;
