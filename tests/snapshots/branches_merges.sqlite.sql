CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> fe2bf8017146

CREATE TABLE accounts (
    id INTEGER NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    PRIMARY KEY (id)
);

INSERT INTO alembic_version (version_num) VALUES ('fe2bf8017146');

-- Running upgrade fe2bf8017146 -> 43410e78c665

ALTER TABLE accounts ADD COLUMN email VARCHAR(255);

UPDATE alembic_version SET version_num='43410e78c665' WHERE alembic_version.version_num = 'fe2bf8017146';

-- Running upgrade 43410e78c665 -> 31efcf581a76

CREATE TABLE audit_events (
    id INTEGER NOT NULL, 
    account_id INTEGER, 
    action VARCHAR(50) NOT NULL, 
    created_at DATETIME NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(account_id) REFERENCES accounts (id)
);

UPDATE alembic_version SET version_num='31efcf581a76' WHERE alembic_version.version_num = '43410e78c665';

-- Running upgrade 43410e78c665 -> d53bbf16b412

CREATE TABLE projects (
    id INTEGER NOT NULL, 
    account_id INTEGER NOT NULL, 
    title VARCHAR(200) NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(account_id) REFERENCES accounts (id)
);

INSERT INTO alembic_version (version_num) VALUES ('d53bbf16b412');

-- Running upgrade d53bbf16b412 -> e417328616d6

ALTER TABLE projects ADD COLUMN budget NUMERIC(12, 2);

UPDATE alembic_version SET version_num='e417328616d6' WHERE alembic_version.version_num = 'd53bbf16b412';

-- Running upgrade e417328616d6, 31efcf581a76 -> 7fe731f00d69

DELETE FROM alembic_version WHERE alembic_version.version_num = 'e417328616d6';

UPDATE alembic_version SET version_num='7fe731f00d69' WHERE alembic_version.version_num = '31efcf581a76';

-- Running upgrade 7fe731f00d69 -> 101816f08565

ALTER TABLE accounts ADD COLUMN status VARCHAR(20) DEFAULT 'active' NOT NULL;

UPDATE alembic_version SET version_num='101816f08565' WHERE alembic_version.version_num = '7fe731f00d69';

-- Running upgrade 101816f08565 -> 76118253df59

ALTER TABLE projects ADD COLUMN archived BOOLEAN DEFAULT 0 NOT NULL;

UPDATE alembic_version SET version_num='76118253df59' WHERE alembic_version.version_num = '101816f08565';

-- Running upgrade 101816f08565 -> 25b12d513407

CREATE TABLE tags (
    id INTEGER NOT NULL, 
    project_id INTEGER NOT NULL, 
    label VARCHAR(50) NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(project_id) REFERENCES projects (id)
);

INSERT INTO alembic_version (version_num) VALUES ('25b12d513407');

