-- Gives a login role read access to the warehouse database this runs in, creating the role when
-- it is missing: CONNECT, USAGE on its schemas, SELECT on their tables, and SELECT on the tables
-- the running role creates there later. Nothing else (NOINHERIT: with per-user roles granted to
-- it, it still holds only its own privileges until SET ROLE).
--
-- Run as the database's owner or a superuser, in one transaction, after
--   SELECT set_config('quarry.reader', '<role>', true), set_config('quarry.reader_password', '<password or empty>', true);
-- Idempotent, and safe when several processes run it at once (the seed of `npm start`, the test kit).
DO $$
DECLARE
  reader text := current_setting('quarry.reader');
  password text := current_setting('quarry.reader_password');
  schema_name text;
BEGIN
  -- Two GRANTs on one object at once fail ("tuple concurrently updated"): one run per database at a time.
  PERFORM pg_advisory_xact_lock(hashtext('quarry reader role'));
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = reader AND rolsuper) THEN
    RAISE NOTICE 'role % is a superuser: left as it is (a Quarry node refuses it)', reader;
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = reader) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN NOINHERIT', reader);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created meanwhile by a run in another database
    END;
  END IF;
  IF password <> '' THEN
    EXECUTE format('ALTER ROLE %I PASSWORD %L', reader, password);
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), reader);
  FOR schema_name IN SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' LOOP
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, reader);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', schema_name, reader);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO %I', schema_name, reader);
  END LOOP;
  -- Any role may create large objects, and PostgreSQL 15 lets even a read-only transaction do it
  -- (written to pg_largeobject): only a superuser can take that from PUBLIC, in each database.
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_from_bytea(oid, bytea) FROM PUBLIC;
  END IF;
END $$;
