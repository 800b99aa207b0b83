//! A run as a person follows it: a line for each event worth one, and at the end the table of
//! what each revision did. Steps and statements are left to the caller's progress display.

use crate::exec::{Event, RevisionReport};

/// The line `event` is worth, without the program's name; `None` for steps and statements
/// (a progress display shows them its own way), the lock taken, commits, and the version
/// table's own row changes (bookkeeping, not the migration's data). Rows changed are
/// indented under their revision.
pub fn event_line(event: &Event, lock_timeout_secs: u64, version_table: &str) -> Option<String> {
    Some(match event {
        Event::Waiting { holder } => {
            let holder = holder.as_ref().map(|h| h.to_string());
            format!(
                "waiting up to {lock_timeout_secs} s for the upgrade lock, held by {}",
                holder.as_deref().unwrap_or("another upgrader")
            )
        }
        Event::BackedUp { backup } => format!(
            "backup {} ({:.1} MB); to restore it: {}",
            backup.path.display(),
            backup.bytes as f64 / 1e6,
            backup.restore
        ),
        Event::Planned { steps, statements } => {
            format!("{steps} revision(s), {statements} statement(s)")
        }
        Event::Rows { summary, rows, .. } if !summary.ends_with(&format!(" {version_table}")) => {
            format!("  {summary}: {rows} row(s)")
        }
        _ => return None,
    })
}

/// What each revision did: statements, rows, time and the start of its message.
pub fn revision_table(revisions: &[RevisionReport]) -> String {
    let mut text = String::from("revision      stmts      rows     time  message\n");
    for r in revisions {
        // A unit of fused revisions says how many ran with its first.
        let fused = match r.joined.len() {
            0 => String::new(),
            n => format!("(+{n} revisions) "),
        };
        let message: String = format!("{fused}{}", r.message).chars().take(40).collect();
        text += &format!(
            "{:<12} {:>6} {:>9} {:>7.2}s  {message}\n",
            r.revision,
            r.statements,
            r.rows,
            r.elapsed.as_secs_f64()
        );
    }
    text
}
