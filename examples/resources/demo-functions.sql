-- A session init script: add it with resources/add (type file), then use pg_temp.with_vat(amount)
-- in queries on the pg driver, whichever node runs them.
CREATE FUNCTION pg_temp.with_vat(amount numeric) RETURNS numeric AS $$ SELECT round(amount * 1.2, 2) $$ LANGUAGE sql;
