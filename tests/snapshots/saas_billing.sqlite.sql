CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> a5cdd81ddfa1

CREATE TABLE organizations (
    id INTEGER NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    slug VARCHAR(50) NOT NULL, 
    billing_notes TEXT, 
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_organizations_slug UNIQUE (slug)
);

CREATE TABLE users (
    id INTEGER NOT NULL, 
    organization_id INTEGER NOT NULL, 
    email VARCHAR(255) NOT NULL, 
    fullname VARCHAR(120), 
    is_admin BOOLEAN DEFAULT 0 NOT NULL, 
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE, 
    CONSTRAINT ck_users_is_admin_bool CHECK (is_admin IN (0, 1))
);

CREATE UNIQUE INDEX ix_users_email ON users (email);

CREATE INDEX ix_users_organization_id ON users (organization_id);

INSERT INTO alembic_version (version_num) VALUES ('a5cdd81ddfa1');

-- Running upgrade a5cdd81ddfa1 -> 3787fd86dd06

CREATE TABLE plans (
    id INTEGER NOT NULL, 
    code VARCHAR(32) NOT NULL, 
    monthly_price_cents INTEGER DEFAULT '0' NOT NULL, 
    seats SMALLINT, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_plans_code UNIQUE (code)
);

INSERT INTO plans (id, code, monthly_price_cents, seats) VALUES (1, 'free', 0, 3);

INSERT INTO plans (id, code, monthly_price_cents, seats) VALUES (2, 'team', 4900, 25);

INSERT INTO plans (id, code, monthly_price_cents, seats) VALUES (3, 'enterprise', 49900, NULL);

CREATE TABLE invoices (
    id INTEGER NOT NULL, 
    organization_id INTEGER NOT NULL, 
    number VARCHAR(20) NOT NULL, 
    status VARCHAR(5) DEFAULT 'draft' NOT NULL, 
    amount_cents INTEGER DEFAULT 0 NOT NULL, 
    issued_at DATETIME, 
    PRIMARY KEY (id), 
    CONSTRAINT fk_invoices_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id), 
    CONSTRAINT ck_invoices_amount_nonnegative CHECK (amount_cents >= 0), 
    CONSTRAINT invoice_status CHECK (status IN ('draft', 'open', 'paid', 'void'))
);

CREATE UNIQUE INDEX ix_invoices_organization_id_number ON invoices (organization_id, number);

UPDATE alembic_version SET version_num='3787fd86dd06' WHERE alembic_version.version_num = 'a5cdd81ddfa1';

-- Running upgrade 3787fd86dd06 -> 1f7e1dff1717

UPDATE users SET fullname = email WHERE fullname IS NULL;

CREATE TABLE _alembic_tmp_users (
    id INTEGER NOT NULL, 
    organization_id INTEGER NOT NULL, 
    email VARCHAR(255) NOT NULL, 
    display_name VARCHAR(120) NOT NULL, 
    is_admin BOOLEAN DEFAULT 0 NOT NULL, 
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT ck_users_is_admin_bool CHECK (is_admin IN (0, 1)), 
    FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);

INSERT INTO _alembic_tmp_users (id, organization_id, email, display_name, is_admin, created_at) SELECT users.id, users.organization_id, users.email, users.fullname, users.is_admin, users.created_at 
FROM users;

DROP TABLE users;

ALTER TABLE _alembic_tmp_users RENAME TO users;

CREATE UNIQUE INDEX ix_users_email ON users (email);

CREATE INDEX ix_users_organization_id ON users (organization_id);

UPDATE alembic_version SET version_num='1f7e1dff1717' WHERE alembic_version.version_num = '3787fd86dd06';

-- Running upgrade 1f7e1dff1717 -> 5cf35fc6bfb9

CREATE TABLE _alembic_tmp_organizations (
    id INTEGER NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    slug VARCHAR(50) NOT NULL, 
    billing_notes TEXT, 
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL, 
    plan_id INTEGER, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_organizations_slug UNIQUE (slug), 
    CONSTRAINT fk_organizations_plan_id_plans FOREIGN KEY(plan_id) REFERENCES plans (id)
);

INSERT INTO _alembic_tmp_organizations (id, name, slug, billing_notes, created_at) SELECT organizations.id, organizations.name, organizations.slug, organizations.billing_notes, organizations.created_at 
FROM organizations;

DROP TABLE organizations;

ALTER TABLE _alembic_tmp_organizations RENAME TO organizations;

UPDATE organizations SET plan_id = 1 WHERE plan_id IS NULL;

UPDATE alembic_version SET version_num='5cf35fc6bfb9' WHERE alembic_version.version_num = '1f7e1dff1717';

-- Running upgrade 5cf35fc6bfb9 -> 6fc3254f4548

CREATE TABLE _alembic_tmp_invoices (
    id INTEGER NOT NULL, 
    organization_id INTEGER NOT NULL, 
    number VARCHAR(32) NOT NULL, 
    status VARCHAR(5) DEFAULT 'draft' NOT NULL, 
    amount_cents INTEGER DEFAULT 0 NOT NULL, 
    issued_at DATETIME, 
    due_at DATETIME, 
    PRIMARY KEY (id), 
    CONSTRAINT fk_invoices_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id), 
    CONSTRAINT ck_invoices_amount_nonnegative CHECK (amount_cents >= 0), 
    CONSTRAINT invoice_status CHECK (status IN ('draft', 'open', 'paid', 'void')), 
    CONSTRAINT ck_invoices_number_not_blank CHECK (length(number) > 0)
);

INSERT INTO _alembic_tmp_invoices (id, organization_id, number, status, amount_cents, issued_at) SELECT invoices.id, invoices.organization_id, invoices.number, invoices.status, invoices.amount_cents, invoices.issued_at 
FROM invoices;

DROP TABLE invoices;

ALTER TABLE _alembic_tmp_invoices RENAME TO invoices;

CREATE UNIQUE INDEX ix_invoices_organization_id_number ON invoices (organization_id, number);

UPDATE alembic_version SET version_num='6fc3254f4548' WHERE alembic_version.version_num = '5cf35fc6bfb9';

-- Running upgrade 6fc3254f4548 -> d38963a226e3

CREATE TABLE _alembic_tmp_users (
    id INTEGER NOT NULL, 
    organization_id INTEGER NOT NULL, 
    email VARCHAR(255) NOT NULL, 
    display_name VARCHAR(120) NOT NULL, 
    is_admin BOOLEAN DEFAULT 0 NOT NULL, 
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT ck_users_is_admin_bool CHECK (is_admin IN (0, 1)), 
    CONSTRAINT uq_users_organization_id_email UNIQUE (organization_id, email), 
    FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);

INSERT INTO _alembic_tmp_users (id, organization_id, email, display_name, is_admin, created_at) SELECT users.id, users.organization_id, users.email, users.display_name, users.is_admin, users.created_at 
FROM users;

DROP TABLE users;

ALTER TABLE _alembic_tmp_users RENAME TO users;

CREATE INDEX ix_users_organization_id ON users (organization_id);

CREATE INDEX ix_users_email ON users (email);

ALTER TABLE organizations DROP COLUMN billing_notes;

UPDATE alembic_version SET version_num='d38963a226e3' WHERE alembic_version.version_num = '6fc3254f4548';

-- Running upgrade d38963a226e3 -> 6be40066cc6f

CREATE TABLE _alembic_tmp_users (
    id INTEGER NOT NULL, 
    organization_id INTEGER NOT NULL, 
    email VARCHAR(255) NOT NULL, 
    display_name VARCHAR(120) NOT NULL, 
    is_admin BOOLEAN DEFAULT 0 NOT NULL, 
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT ck_users_is_admin_bool CHECK (is_admin IN (0, 1)), 
    CONSTRAINT uq_users_organization_id_email UNIQUE (organization_id, email), 
    CONSTRAINT fk_users_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE RESTRICT
);

INSERT INTO _alembic_tmp_users (id, organization_id, email, display_name, is_admin, created_at) SELECT users.id, users.organization_id, users.email, users.display_name, users.is_admin, users.created_at 
FROM users;

DROP TABLE users;

ALTER TABLE _alembic_tmp_users RENAME TO users;

CREATE INDEX ix_users_organization_id ON users (organization_id);

CREATE INDEX ix_users_email ON users (email);

UPDATE alembic_version SET version_num='6be40066cc6f' WHERE alembic_version.version_num = 'd38963a226e3';

-- Running upgrade 6be40066cc6f -> 2f1c7363e2f5

CREATE TABLE _alembic_tmp_invoices (
    id INTEGER NOT NULL, 
    organization_id INTEGER NOT NULL, 
    number VARCHAR(32) NOT NULL, 
    status VARCHAR(5) DEFAULT 'draft' NOT NULL, 
    amount_cents INTEGER DEFAULT 0 NOT NULL, 
    issued_at DATETIME, 
    due_at DATETIME, 
    currency VARCHAR(3) DEFAULT 'USD' NOT NULL, 
    is_paid BOOLEAN DEFAULT 0 NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT fk_invoices_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id), 
    CONSTRAINT ck_invoices_amount_nonnegative CHECK (amount_cents >= 0), 
    CONSTRAINT invoice_status CHECK (status IN ('draft', 'open', 'paid', 'void')), 
    CONSTRAINT ck_invoices_number_not_blank CHECK (length(number) > 0), 
    CONSTRAINT ck_invoices_is_paid_bool CHECK (is_paid IN (0, 1)), 
    CONSTRAINT ck_invoices_currency_upper CHECK (currency = upper(currency))
);

INSERT INTO _alembic_tmp_invoices (id, organization_id, number, status, amount_cents, issued_at, due_at) SELECT invoices.id, invoices.organization_id, invoices.number, invoices.status, invoices.amount_cents, invoices.issued_at, invoices.due_at 
FROM invoices;

DROP TABLE invoices;

ALTER TABLE _alembic_tmp_invoices RENAME TO invoices;

CREATE UNIQUE INDEX ix_invoices_organization_id_number ON invoices (organization_id, number);

UPDATE invoices SET is_paid = 1 WHERE status = 'paid';

UPDATE alembic_version SET version_num='2f1c7363e2f5' WHERE alembic_version.version_num = '6be40066cc6f';

