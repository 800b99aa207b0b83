BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 5e1f7b2c9a40

CREATE TABLE boards (
    id UUID NOT NULL, 
    slug VARCHAR(250) NOT NULL, 
    title VARCHAR(200) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_boards PRIMARY KEY (id), 
    CONSTRAINT uq_boards_slug UNIQUE (slug)
);

INSERT INTO alembic_version (version_num) VALUES ('5e1f7b2c9a40');

-- Running upgrade 5e1f7b2c9a40 -> 8c3d0a6e4f21

CREATE TABLE tasks (
    id SERIAL NOT NULL, 
    board_id UUID NOT NULL, 
    title VARCHAR(100) NOT NULL, 
    due TIMESTAMP WITH TIME ZONE, 
    done BOOLEAN DEFAULT false NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_tasks PRIMARY KEY (id), 
    CONSTRAINT fk_tasks_board_id FOREIGN KEY(board_id) REFERENCES boards (id)
);

CREATE INDEX ix_tasks_board_id ON tasks (board_id);

UPDATE alembic_version SET version_num='8c3d0a6e4f21' WHERE alembic_version.version_num = '5e1f7b2c9a40';

-- Running upgrade 8c3d0a6e4f21 -> b7a94e15d302

ALTER TABLE boards ADD COLUMN archived_at TIMESTAMP WITH TIME ZONE;

CREATE INDEX ix_boards_archived_at ON boards (archived_at, slug);

ALTER TABLE tasks ALTER COLUMN title TYPE VARCHAR(300);

UPDATE alembic_version SET version_num='b7a94e15d302' WHERE alembic_version.version_num = '8c3d0a6e4f21';

-- Running upgrade b7a94e15d302 -> d41c8e07ab59

CREATE INDEX ix_boards_title ON boards (title);

ALTER TABLE boards RENAME TO board;

DROP INDEX ix_boards_title;

CREATE INDEX ix_board_title ON board (title);

UPDATE alembic_version SET version_num='d41c8e07ab59' WHERE alembic_version.version_num = 'b7a94e15d302';

-- Running upgrade d41c8e07ab59 -> f2b6c8d9e130

CREATE TABLE labels (
    id SERIAL NOT NULL, 
    key VARCHAR(50) NOT NULL, 
    task_id INTEGER, 
    CONSTRAINT pk_labels PRIMARY KEY (id)
);

CREATE INDEX ix_labels_key ON labels (key);

ALTER TABLE labels ADD COLUMN color VARCHAR(20);

ALTER TABLE labels ADD CONSTRAINT fk_labels_task_id FOREIGN KEY(task_id) REFERENCES tasks (id);

ALTER TABLE labels ADD CONSTRAINT uq_labels_color UNIQUE (color);

ALTER TABLE labels DROP CONSTRAINT uq_labels_color;

CREATE INDEX ix_labels_task_id_id_desc ON labels (task_id, id DESC);

UPDATE alembic_version SET version_num='f2b6c8d9e130' WHERE alembic_version.version_num = 'd41c8e07ab59';

-- Running upgrade f2b6c8d9e130 -> a9e3f1c07d52

CREATE TABLE comments (
    id SERIAL NOT NULL, 
    task_id INTEGER NOT NULL, 
    author VARCHAR(50) NOT NULL, 
    position INTEGER NOT NULL, 
    CONSTRAINT pk_comments PRIMARY KEY (id), 
    CONSTRAINT uq_comments_task_id_position UNIQUE (task_id, position), 
    CONSTRAINT ck_comments_position_not_negative CHECK (position >= 0), 
    CONSTRAINT fk_comments_task_id_tasks FOREIGN KEY(task_id) REFERENCES tasks (id)
);

CREATE INDEX idx_comments_task_id ON comments (task_id);

CREATE INDEX idx_comments_author ON comments (author);

ALTER TABLE labels ADD CONSTRAINT uq_labels_key_task_id UNIQUE (key, task_id);

UPDATE alembic_version SET version_num='a9e3f1c07d52' WHERE alembic_version.version_num = 'f2b6c8d9e130';

COMMIT;

