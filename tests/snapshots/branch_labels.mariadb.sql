CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 7444a1311238

CREATE TABLE settings (
    id INTEGER NOT NULL AUTO_INCREMENT, 
    `key` VARCHAR(64) NOT NULL, 
    value TEXT, 
    PRIMARY KEY (id), 
    UNIQUE (`key`)
);

INSERT INTO alembic_version (version_num) VALUES ('7444a1311238');

-- Running upgrade 7444a1311238 -> 3e466b185b1c

ALTER TABLE settings ADD COLUMN theme VARCHAR(32);

UPDATE alembic_version SET version_num='3e466b185b1c' WHERE alembic_version.version_num = '7444a1311238';

-- Running upgrade 3e466b185b1c -> 963ee1ad3d9d

CREATE TABLE reports (
    id INTEGER NOT NULL AUTO_INCREMENT, 
    name VARCHAR(120) NOT NULL, 
    PRIMARY KEY (id)
);

UPDATE alembic_version SET version_num='963ee1ad3d9d' WHERE alembic_version.version_num = '3e466b185b1c';

-- Running upgrade 963ee1ad3d9d -> efb481665251

ALTER TABLE reports ADD COLUMN title VARCHAR(200);

UPDATE alembic_version SET version_num='efb481665251' WHERE alembic_version.version_num = '963ee1ad3d9d';

-- Running upgrade 3e466b185b1c -> 23ccd2ea9900

CREATE TABLE alerts (
    id INTEGER NOT NULL AUTO_INCREMENT, 
    message TEXT NOT NULL, 
    PRIMARY KEY (id)
);

INSERT INTO alembic_version (version_num) VALUES ('23ccd2ea9900');

-- Running upgrade 23ccd2ea9900 -> e61f71a07967

ALTER TABLE alerts ADD COLUMN severity INTEGER NOT NULL DEFAULT '0';

UPDATE alembic_version SET version_num='e61f71a07967' WHERE alembic_version.version_num = '23ccd2ea9900';

-- Running upgrade e61f71a07967 -> d5b60cb62ee3

ALTER TABLE alerts ADD COLUMN muted BOOL NOT NULL DEFAULT false;

UPDATE alembic_version SET version_num='d5b60cb62ee3' WHERE alembic_version.version_num = 'e61f71a07967';

