-- A session init script: add it with resources/add (type file); queries on the pg driver of that
-- session then see these settings, whichever node runs them, e.g.
--   SELECT region, round(sum(amount) * current_setting('demo.vat')::numeric, 2) FROM sales GROUP BY region
-- Scripts run read-only (docs/security.md): settings (SET), not temporary functions or tables.
SET demo.vat = '1.2';
