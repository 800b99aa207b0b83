BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> abcd1234ef56

CREATE TABLE widgets (
    id SERIAL NOT NULL, 
    name VARCHAR(50) NOT NULL, 
    PRIMARY KEY (id)
);

INSERT INTO alembic_version (version_num) VALUES ('abcd1234ef56');

-- Running upgrade abcd1234ef56 -> abcd5678a9b0

ALTER TABLE widgets ADD COLUMN color VARCHAR(20);

UPDATE alembic_version SET version_num='abcd5678a9b0' WHERE alembic_version.version_num = 'abcd1234ef56';

-- Running upgrade abcd5678a9b0 -> abce90f1c2d3

CREATE TABLE gadgets (
    id SERIAL NOT NULL, 
    widget_id INTEGER NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(widget_id) REFERENCES widgets (id)
);

UPDATE alembic_version SET version_num='abce90f1c2d3' WHERE alembic_version.version_num = 'abcd5678a9b0';

-- Running upgrade abce90f1c2d3 -> ab01f2e3d4c5

ALTER TABLE gadgets ADD COLUMN size INTEGER;

UPDATE alembic_version SET version_num='ab01f2e3d4c5' WHERE alembic_version.version_num = 'abce90f1c2d3';

COMMIT;

