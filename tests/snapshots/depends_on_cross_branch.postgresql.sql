BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> a261e309d048

CREATE TABLE users (
    id SERIAL NOT NULL, 
    username VARCHAR(80) NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (username)
);

INSERT INTO alembic_version (version_num) VALUES ('a261e309d048');

-- Running upgrade a261e309d048 -> a70ea671cbf2

ALTER TABLE users ADD COLUMN display_name VARCHAR(120);

UPDATE alembic_version SET version_num='a70ea671cbf2' WHERE alembic_version.version_num = 'a261e309d048';

-- Running upgrade a70ea671cbf2 -> 8185f9120b9e

CREATE TABLE teams (
    id SERIAL NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    owner_id INTEGER, 
    PRIMARY KEY (id), 
    FOREIGN KEY(owner_id) REFERENCES users (id)
);

UPDATE alembic_version SET version_num='8185f9120b9e' WHERE alembic_version.version_num = 'a70ea671cbf2';

-- Running upgrade  -> bdbd318bb115

CREATE TABLE invoices (
    id SERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    amount NUMERIC(12, 2) NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(user_id) REFERENCES users (id)
);

INSERT INTO alembic_version (version_num) VALUES ('bdbd318bb115');

-- Running upgrade 8185f9120b9e -> c33bff18f436

CREATE TABLE invoice_preferences (
    user_id INTEGER NOT NULL, 
    last_invoice_id INTEGER, 
    currency VARCHAR(3) DEFAULT 'USD' NOT NULL, 
    PRIMARY KEY (user_id), 
    FOREIGN KEY(user_id) REFERENCES users (id), 
    FOREIGN KEY(last_invoice_id) REFERENCES invoices (id)
);

DELETE FROM alembic_version WHERE alembic_version.version_num = '8185f9120b9e';

UPDATE alembic_version SET version_num='c33bff18f436' WHERE alembic_version.version_num = 'bdbd318bb115';

-- Running upgrade bdbd318bb115 -> 214936be1f10

ALTER TABLE invoices ADD COLUMN team_id INTEGER;

CREATE INDEX ix_invoices_team_id ON invoices (team_id);

INSERT INTO alembic_version (version_num) VALUES ('214936be1f10');

-- Running upgrade 214936be1f10 -> 35996c5e3070

CREATE TABLE payments (
    id SERIAL NOT NULL, 
    invoice_id INTEGER NOT NULL, 
    paid_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(invoice_id) REFERENCES invoices (id)
);

UPDATE alembic_version SET version_num='35996c5e3070' WHERE alembic_version.version_num = '214936be1f10';

COMMIT;

