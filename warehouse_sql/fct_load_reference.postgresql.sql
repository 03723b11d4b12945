-- PostgreSQL: every fact row names its load. On SQLite that is the foreign key ${LOAD_REFERENCE} stands
-- for in each fct_ file; here it is checked once per statement instead of once per row. The per-row check
-- of that foreign key (a locking lookup of stg_file_load for every fact row) cost the server about twice
-- the COPY itself on a 12345 export (bench/results.md, "the server's share"). The same promises:
--   * a fact row whose load_id is in no stg_file_load row is refused (COPY or INSERT; SQLSTATE 23503),
--     and the load rows named are locked FOR KEY SHARE to the end of the transaction, as the foreign key does;
--   * a load with fact rows cannot be deleted, nor stg_file_load truncated while any fact row exists — under
--     READ COMMITTED only, where the check sees every committed fact row (the foreign key looks past a
--     REPEATABLE READ snapshot; this check cannot, so it refuses to run in one);
--   * a load_id never changes, neither a load's nor a fact row's (stricter than the foreign key: lineage).
-- The fact tables are the contracts' (${FACT_TABLES}, from etl/contracts). Older warehouses lose the
-- foreign keys here too: the last statement drops them. CREATE OR REPLACE TRIGGER: PostgreSQL 14 or later.

CREATE OR REPLACE FUNCTION fct_rows_name_a_load() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    loads BIGINT[];
    missing BIGINT;
BEGIN
    -- one pass over the statement's rows: a second cost more than capturing them (0.27 s against 0.17 s a 300,000)
    SELECT array_agg(DISTINCT n.load_id) INTO loads FROM new_facts AS n;
    PERFORM 1 FROM staging.stg_file_load AS l WHERE l.load_id = ANY (loads) FOR KEY SHARE;
    SELECT n.load_id INTO missing
    FROM unnest(loads) AS n (load_id)
    WHERE NOT EXISTS (SELECT 1 FROM staging.stg_file_load AS l WHERE l.load_id = n.load_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert on table "%" violates its load reference', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (load_id)=(%s) is not present in table "stg_file_load".', missing);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION stg_file_load_keeps_its_facts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fact_table TEXT;
    referenced BIGINT;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% on table "stg_file_load" runs under READ COMMITTED only', TG_OP
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'The check of the loads'' fact rows must see every committed row.';
    END IF;
    FOREACH fact_table IN ARRAY ${FACT_TABLES} LOOP
        IF TG_OP = 'TRUNCATE' THEN
            EXECUTE format('SELECT f.load_id FROM core.%I AS f LIMIT 1', fact_table) INTO referenced;
        ELSE
            EXECUTE format(
                'SELECT o.load_id FROM old_loads AS o '
                'WHERE EXISTS (SELECT 1 FROM core.%I AS f WHERE f.load_id = o.load_id) LIMIT 1',
                fact_table
            ) INTO referenced;
        END IF;
        IF referenced IS NOT NULL THEN
            RAISE EXCEPTION '% on table "stg_file_load" violates the load reference from table "%"', TG_OP, fact_table
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key (load_id)=(%s) is still referenced from table "%s".', referenced, fact_table);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION load_id_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the load_id of a row of "%" does not change (% to %)', TG_TABLE_NAME, OLD.load_id, NEW.load_id
        USING ERRCODE = 'foreign_key_violation';
END
$$;

CREATE OR REPLACE TRIGGER stg_file_load_keeps_its_facts AFTER DELETE ON staging.stg_file_load
    REFERENCING OLD TABLE AS old_loads FOR EACH STATEMENT EXECUTE FUNCTION stg_file_load_keeps_its_facts();

CREATE OR REPLACE TRIGGER stg_file_load_keeps_its_facts_on_truncate BEFORE TRUNCATE ON staging.stg_file_load
    FOR EACH STATEMENT EXECUTE FUNCTION stg_file_load_keeps_its_facts();

CREATE OR REPLACE TRIGGER load_id_is_fixed BEFORE UPDATE OF load_id ON staging.stg_file_load
    FOR EACH ROW WHEN (OLD.load_id IS DISTINCT FROM NEW.load_id) EXECUTE FUNCTION load_id_is_fixed();

DO $$
DECLARE
    fact_table TEXT;
    reference RECORD;
BEGIN
    FOREACH fact_table IN ARRAY ${FACT_TABLES} LOOP
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER fct_rows_name_a_load AFTER INSERT ON core.%I '
            'REFERENCING NEW TABLE AS new_facts FOR EACH STATEMENT EXECUTE FUNCTION core.fct_rows_name_a_load()',
            fact_table
        );
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER load_id_is_fixed BEFORE UPDATE OF load_id ON core.%I '
            'FOR EACH ROW WHEN (OLD.load_id IS DISTINCT FROM NEW.load_id) EXECUTE FUNCTION core.load_id_is_fixed()',
            fact_table
        );
        FOR reference IN
            SELECT c.conname FROM pg_constraint AS c
            WHERE c.contype = 'f'
              AND c.conrelid = format('core.%I', fact_table)::regclass
              AND c.confrelid = 'staging.stg_file_load'::regclass
        LOOP
            EXECUTE format('ALTER TABLE core.%I DROP CONSTRAINT %I', fact_table, reference.conname);
        END LOOP;
    END LOOP;
END
$$;
