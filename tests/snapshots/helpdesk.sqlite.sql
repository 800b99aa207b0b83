CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 4d34d04a32a3

CREATE TABLE agents (
    id INTEGER NOT NULL, 
    email VARCHAR(120) NOT NULL, 
    name VARCHAR(80), 
    active BOOLEAN DEFAULT 1 NOT NULL, 
    CONSTRAINT pk_agents PRIMARY KEY (id), 
    CONSTRAINT uq_agents_email UNIQUE (email), 
    CONSTRAINT ck_agents_active CHECK (active IN (0, 1))
);

CREATE TABLE tickets (
    id INTEGER NOT NULL, 
    subject VARCHAR(200) NOT NULL, 
    body TEXT, 
    status VARCHAR(7) DEFAULT 'new' NOT NULL, 
    agent_id INTEGER, 
    legacy_ref VARCHAR(40), 
    created_at DATETIME DEFAULT (datetime('now')) NOT NULL, 
    CONSTRAINT pk_tickets PRIMARY KEY (id), 
    CONSTRAINT fk_tickets_agent_id_agents FOREIGN KEY(agent_id) REFERENCES agents (id), 
    CONSTRAINT ticket_status CHECK (status IN ('new', 'open', 'pending', 'solved'))
);

CREATE INDEX ix_tickets_status ON tickets (status);

CREATE INDEX ix_tickets_agent_id ON tickets (agent_id);

INSERT INTO alembic_version (version_num) VALUES ('4d34d04a32a3');

-- Running upgrade 4d34d04a32a3 -> 5fbbb1445370

CREATE TABLE _alembic_tmp_tickets (
    id INTEGER NOT NULL, 
    subject VARCHAR(200) NOT NULL, 
    body TEXT, 
    status VARCHAR(7) DEFAULT 'new' NOT NULL, 
    agent_id INTEGER, 
    legacy_ref VARCHAR(40), 
    created_at DATETIME DEFAULT (datetime('now')) NOT NULL, 
    priority SMALLINT DEFAULT 0 NOT NULL, 
    CONSTRAINT pk_tickets PRIMARY KEY (id), 
    CONSTRAINT fk_tickets_agent_id_agents FOREIGN KEY(agent_id) REFERENCES agents (id), 
    CONSTRAINT ticket_status CHECK (status IN ('new', 'open', 'pending', 'solved')), 
    CONSTRAINT ck_tickets_priority_range CHECK (priority BETWEEN 0 AND 3)
);

INSERT INTO _alembic_tmp_tickets (id, subject, body, status, agent_id, legacy_ref, created_at) SELECT tickets.id, tickets.subject, tickets.body, tickets.status, tickets.agent_id, tickets.legacy_ref, tickets.created_at 
FROM tickets;

DROP TABLE tickets;

ALTER TABLE _alembic_tmp_tickets RENAME TO tickets;

CREATE INDEX ix_tickets_status ON tickets (status);

CREATE INDEX ix_tickets_agent_id ON tickets (agent_id);

UPDATE alembic_version SET version_num='5fbbb1445370' WHERE alembic_version.version_num = '4d34d04a32a3';

-- Running upgrade 5fbbb1445370 -> cc1c79c23587

CREATE TABLE tags (
    id INTEGER NOT NULL, 
    name VARCHAR(50) NOT NULL, 
    color VARCHAR(7) DEFAULT '#888888' NOT NULL, 
    CONSTRAINT pk_tags PRIMARY KEY (id), 
    CONSTRAINT uq_tags_name UNIQUE (name)
);

CREATE TABLE ticket_tags (
    ticket_id INTEGER NOT NULL, 
    tag_id INTEGER NOT NULL, 
    CONSTRAINT pk_ticket_tags PRIMARY KEY (ticket_id, tag_id), 
    FOREIGN KEY(ticket_id) REFERENCES tickets (id) ON DELETE CASCADE, 
    FOREIGN KEY(tag_id) REFERENCES tags (id)
);

INSERT INTO tags (id, name, color) VALUES (1, 'billing', '#1f77b4');

INSERT INTO tags (id, name, color) VALUES (2, 'bug', '#d62728');

INSERT INTO tags (id, name, color) VALUES (3, 'won''t fix', '#7f7f7f');

UPDATE alembic_version SET version_num='cc1c79c23587' WHERE alembic_version.version_num = '5fbbb1445370';

-- Running upgrade cc1c79c23587 -> 7eac75eed9c6

CREATE TABLE _alembic_tmp_agents (
    id INTEGER NOT NULL, 
    email VARCHAR(120) NOT NULL, 
    display_name VARCHAR(120), 
    active BOOLEAN DEFAULT 1 NOT NULL, 
    CONSTRAINT pk_agents PRIMARY KEY (id), 
    CONSTRAINT uq_agents_email UNIQUE (email), 
    CONSTRAINT ck_agents_active CHECK (active IN (0, 1))
);

INSERT INTO _alembic_tmp_agents (id, email, display_name, active) SELECT agents.id, agents.email, agents.name, agents.active 
FROM agents;

DROP TABLE agents;

ALTER TABLE _alembic_tmp_agents RENAME TO agents;

CREATE TABLE _alembic_tmp_tickets (
    id INTEGER NOT NULL, 
    subject TEXT NOT NULL, 
    body TEXT, 
    status VARCHAR(7) DEFAULT 'new' NOT NULL, 
    agent_id INTEGER, 
    legacy_ref VARCHAR(40), 
    created_at DATETIME DEFAULT (datetime('now')) NOT NULL, 
    priority SMALLINT DEFAULT 0 NOT NULL, 
    CONSTRAINT pk_tickets PRIMARY KEY (id), 
    CONSTRAINT fk_tickets_agent_id_agents FOREIGN KEY(agent_id) REFERENCES agents (id), 
    CONSTRAINT ticket_status CHECK (status IN ('new', 'open', 'pending', 'solved')), 
    CONSTRAINT ck_tickets_priority_range CHECK (priority BETWEEN 0 AND 3)
);

INSERT INTO _alembic_tmp_tickets (id, subject, body, status, agent_id, legacy_ref, created_at, priority) SELECT tickets.id, tickets.subject, tickets.body, tickets.status, tickets.agent_id, tickets.legacy_ref, tickets.created_at, tickets.priority 
FROM tickets;

DROP TABLE tickets;

ALTER TABLE _alembic_tmp_tickets RENAME TO tickets;

CREATE INDEX ix_tickets_status ON tickets (status);

CREATE INDEX ix_tickets_agent_id ON tickets (agent_id);

UPDATE alembic_version SET version_num='7eac75eed9c6' WHERE alembic_version.version_num = 'cc1c79c23587';

-- Running upgrade 7eac75eed9c6 -> ac6c6db2d391

ALTER TABLE tickets ADD COLUMN requester_email VARCHAR(254);

UPDATE tickets SET requester_email='unknown@example.invalid' WHERE requester_email IS NULL;

UPDATE tickets SET priority=1 WHERE status = 'new';

CREATE TABLE _alembic_tmp_tickets (
    id INTEGER NOT NULL, 
    subject TEXT NOT NULL, 
    body TEXT, 
    status VARCHAR(7) DEFAULT 'new' NOT NULL, 
    agent_id INTEGER, 
    legacy_ref VARCHAR(40), 
    created_at DATETIME DEFAULT (datetime('now')) NOT NULL, 
    priority SMALLINT DEFAULT 0 NOT NULL, 
    requester_email VARCHAR(254) NOT NULL, 
    CONSTRAINT pk_tickets PRIMARY KEY (id), 
    CONSTRAINT fk_tickets_agent_id_agents FOREIGN KEY(agent_id) REFERENCES agents (id), 
    CONSTRAINT ticket_status CHECK (status IN ('new', 'open', 'pending', 'solved')), 
    CONSTRAINT ck_tickets_priority_range CHECK (priority BETWEEN 0 AND 3)
);

INSERT INTO _alembic_tmp_tickets (id, subject, body, status, agent_id, legacy_ref, created_at, priority, requester_email) SELECT tickets.id, tickets.subject, tickets.body, tickets.status, tickets.agent_id, tickets.legacy_ref, tickets.created_at, tickets.priority, tickets.requester_email 
FROM tickets;

DROP TABLE tickets;

ALTER TABLE _alembic_tmp_tickets RENAME TO tickets;

CREATE INDEX ix_tickets_status ON tickets (status);

CREATE INDEX ix_tickets_agent_id ON tickets (agent_id);

CREATE INDEX ix_tickets_requester_email ON tickets (requester_email);

UPDATE alembic_version SET version_num='ac6c6db2d391' WHERE alembic_version.version_num = '7eac75eed9c6';

-- Running upgrade ac6c6db2d391 -> ace148c6317f

CREATE TABLE _alembic_tmp_ticket_tags (
    ticket_id INTEGER NOT NULL, 
    tag_id INTEGER NOT NULL, 
    added_by INTEGER, 
    CONSTRAINT pk_ticket_tags PRIMARY KEY (ticket_id, tag_id), 
    CONSTRAINT fk_ticket_tags_ticket_id_tickets FOREIGN KEY(ticket_id) REFERENCES tickets (id) ON DELETE CASCADE, 
    CONSTRAINT fk_ticket_tags_tag_id_tags FOREIGN KEY(tag_id) REFERENCES tags (id) ON DELETE CASCADE
);

INSERT INTO _alembic_tmp_ticket_tags (ticket_id, tag_id) SELECT ticket_tags.ticket_id, ticket_tags.tag_id 
FROM ticket_tags;

DROP TABLE ticket_tags;

ALTER TABLE _alembic_tmp_ticket_tags RENAME TO ticket_tags;

UPDATE alembic_version SET version_num='ace148c6317f' WHERE alembic_version.version_num = 'ac6c6db2d391';

-- Running upgrade ace148c6317f -> 3382d9a0b7a6

CREATE TABLE _alembic_tmp_tickets (
    id INTEGER NOT NULL, 
    subject TEXT NOT NULL, 
    body TEXT, 
    status VARCHAR(7) DEFAULT 'new' NOT NULL, 
    agent_id INTEGER, 
    created_at DATETIME DEFAULT (datetime('now')) NOT NULL, 
    priority SMALLINT DEFAULT 0 NOT NULL, 
    requester_email VARCHAR(254) NOT NULL, 
    CONSTRAINT pk_tickets PRIMARY KEY (id), 
    CONSTRAINT fk_tickets_agent_id_agents FOREIGN KEY(agent_id) REFERENCES agents (id), 
    CONSTRAINT ticket_status CHECK (status IN ('new', 'open', 'pending', 'solved')), 
    CONSTRAINT ck_tickets_priority_range CHECK (priority BETWEEN 0 AND 3)
);

INSERT INTO _alembic_tmp_tickets (id, subject, body, status, agent_id, created_at, priority, requester_email) SELECT tickets.id, tickets.subject, tickets.body, tickets.status, tickets.agent_id, tickets.created_at, tickets.priority, tickets.requester_email 
FROM tickets;

DROP TABLE tickets;

ALTER TABLE _alembic_tmp_tickets RENAME TO tickets;

CREATE INDEX ix_tickets_status ON tickets (status);

CREATE INDEX ix_tickets_agent_id ON tickets (agent_id);

CREATE INDEX ix_tickets_requester_email ON tickets (requester_email);

CREATE TABLE _alembic_tmp_agents (
    id INTEGER NOT NULL, 
    email VARCHAR(120) NOT NULL, 
    display_name VARCHAR(120), 
    active BOOLEAN DEFAULT 1 NOT NULL, 
    CONSTRAINT pk_agents PRIMARY KEY (id), 
    CONSTRAINT ck_agents_active CHECK (active IN (0, 1))
);

INSERT INTO _alembic_tmp_agents (id, email, display_name, active) SELECT agents.id, agents.email, agents.display_name, agents.active 
FROM agents;

DROP TABLE agents;

ALTER TABLE _alembic_tmp_agents RENAME TO agents;

CREATE UNIQUE INDEX ix_agents_email ON agents (email);

UPDATE alembic_version SET version_num='3382d9a0b7a6' WHERE alembic_version.version_num = 'ace148c6317f';

