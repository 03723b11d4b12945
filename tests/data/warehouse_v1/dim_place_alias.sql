-- Every spelling a clerk may use for a district (明山 / 明山区 / 本溪县 …), folded (no spaces, NFKC).
CREATE TABLE IF NOT EXISTS dim_place_alias (
    alias       VARCHAR(64) PRIMARY KEY,
    place_code  VARCHAR(12) NOT NULL
);
