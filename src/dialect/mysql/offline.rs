//! Offline scripts for the `mysql` command-line client. The client cuts its input at every `;`
//! outside quotes and comments, so a statement with a `;` of its own — a trigger or routine
//! body, `BEGIN ... SIGNAL ...; END IF; END` — would reach the server in pieces. Such a
//! statement is written between `DELIMITER` lines, terminated by a delimiter its text does not
//! contain; every other statement is written as Alembic's offline mode writes it.

/// One statement of an offline script: tabs as four spaces, trimmed, terminated by `;` — or,
/// when the statement has a `;` inside, framed by `DELIMITER $$` ... `$$` / `DELIMITER ;`
/// (`Plan::offline_sql` calls this for MySQL/MariaDB in place of its own formatting).
pub fn offline_statement(sql: &str) -> String {
    let text = sql.replace('\t', "    ");
    let body = text.trim().trim_end_matches(';').trim_end();
    if !has_inner_semicolon(body) {
        return format!("{};\n\n", text.trim());
    }
    let delimiter = ["$$", "//", "$$$", "@@"]
        .into_iter()
        .find(|d| !body.contains(d))
        .unwrap_or("$$$$");
    format!("DELIMITER {delimiter}\n{body}{delimiter}\nDELIMITER ;\n\n")
}

/// Whether `sql` has a `;` outside string literals, quoted identifiers and comments, as the
/// `mysql` client reads it.
fn has_inner_semicolon(sql: &str) -> bool {
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => return true,
            '\'' | '"' | '`' => {
                while let Some(x) = chars.next() {
                    if x == '\\' && c != '`' {
                        chars.next();
                    } else if x == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '#' => {
                chars.by_ref().find(|x| *x == '\n');
            }
            '-' if chars.peek() == Some(&'-') => {
                chars.next();
                if chars.peek().is_none_or(|x| x.is_whitespace()) {
                    chars.by_ref().find(|x| *x == '\n');
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for x in chars.by_ref() {
                    if prev == '*' && x == '/' {
                        break;
                    }
                    prev = x;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_statements_are_written_as_alembic_writes_them() {
        assert_eq!(
            offline_statement("\nCREATE TABLE t (\n\tid INTEGER\n)\n\n"),
            "CREATE TABLE t (\n    id INTEGER\n);\n\n"
        );
        assert_eq!(
            offline_statement("INSERT INTO t (a) VALUES ('x;y')"),
            "INSERT INTO t (a) VALUES ('x;y');\n\n"
        );
        assert_eq!(
            offline_statement("DROP TRIGGER IF EXISTS x;"),
            "DROP TRIGGER IF EXISTS x;;\n\n"
        );
    }

    #[test]
    fn trigger_bodies_get_their_own_delimiter() {
        let trigger = "\nCREATE TRIGGER t BEFORE UPDATE ON s\nFOR EACH ROW\nBEGIN\n    \
                       IF OLD.a != NEW.a THEN\n        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no';\n    \
                       END IF;\nEND;\n";
        let out = offline_statement(trigger);
        assert!(out.starts_with("DELIMITER $$\nCREATE TRIGGER t"), "{out}");
        assert!(out.ends_with("END IF;\nEND$$\nDELIMITER ;\n\n"), "{out}");
    }

    #[test]
    fn the_delimiter_is_one_the_body_does_not_contain() {
        let out = offline_statement("CREATE PROCEDURE p() BEGIN SELECT '$$'; END");
        assert!(out.starts_with("DELIMITER //\n"), "{out}");
        assert!(out.contains("END//\nDELIMITER ;"), "{out}");
    }

    #[test]
    fn semicolons_in_quotes_and_comments_do_not_count() {
        assert!(!has_inner_semicolon(
            "SELECT 'a;b', \"c;d\", `e;f` -- g;h\n"
        ));
        assert!(!has_inner_semicolon("SELECT 1 /* ; */ # ;\n"));
        assert!(!has_inner_semicolon("SELECT 'it''s; \\' ;'"));
        assert!(has_inner_semicolon("BEGIN SELECT 1; END"));
    }
}
