-- Places reference: the city (市本级), its districts (GB/T 2260) and streets. Filled from
-- etl/reference/places.yaml on every warehouse setup.
CREATE TABLE IF NOT EXISTS dim_place (
    place_code   VARCHAR(12) PRIMARY KEY,
    place_name   VARCHAR(64) NOT NULL,
    level        VARCHAR(16) NOT NULL,   -- city | district | street
    parent_code  VARCHAR(12)
);
