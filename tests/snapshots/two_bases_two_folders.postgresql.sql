BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> dd87ed70ebb3

CREATE TABLE experiments (
    id SERIAL NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (name)
);

INSERT INTO alembic_version (version_num) VALUES ('dd87ed70ebb3');

-- Running upgrade dd87ed70ebb3 -> e8f327cdef06

ALTER TABLE experiments ADD COLUMN description TEXT;

UPDATE alembic_version SET version_num='e8f327cdef06' WHERE alembic_version.version_num = 'dd87ed70ebb3';

-- Running upgrade e8f327cdef06 -> f7a0bd592a3a

CREATE TABLE runs (
    id VARCHAR(32) NOT NULL, 
    experiment_id INTEGER NOT NULL, 
    status VARCHAR(20), 
    PRIMARY KEY (id), 
    FOREIGN KEY(experiment_id) REFERENCES experiments (id)
);

UPDATE alembic_version SET version_num='f7a0bd592a3a' WHERE alembic_version.version_num = 'e8f327cdef06';

-- Running upgrade  -> cd8deb6e2653

CREATE TABLE plugin_registry (
    name VARCHAR(100) NOT NULL, 
    version VARCHAR(20) NOT NULL, 
    PRIMARY KEY (name)
);

INSERT INTO alembic_version (version_num) VALUES ('cd8deb6e2653');

-- Running upgrade cd8deb6e2653 -> 3f4d9201d854

ALTER TABLE plugin_registry ADD COLUMN enabled BOOLEAN DEFAULT true NOT NULL;

UPDATE alembic_version SET version_num='3f4d9201d854' WHERE alembic_version.version_num = 'cd8deb6e2653';

COMMIT;

