//! An operator's choices for an upgrade or downgrade, in the operator's terms (seconds,
//! folders, yes/no), and the executor's [`Options`] that follow from them and the kind of
//! database: where a backup goes depends on whether it is a SQLite file or a server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::db::{Backend, DbUrl};
use crate::exec::{dump_command, Backup, Options, TransactionMode, Uncertain};
use crate::graph::Direction;
use crate::plan::Fresh;

/// What a run is asked to do besides its target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunChoices {
    pub lock_timeout_secs: u64,
    /// One transaction for the whole run instead of one per revision.
    pub one_transaction: bool,
    /// MySQL/MariaDB: what the statement an interrupted run may have applied is taken for.
    pub uncertain: Option<Uncertain>,
    pub ignore_drift: bool,
    pub adopt_partial: bool,
    pub require_compatible: bool,
    /// An empty database replays every revision instead of getting the target's schema.
    pub replay: bool,
    /// Where backups go: SQLite copies beside the database without it; servers are dumped
    /// only when it is given.
    pub backup_dir: Option<PathBuf>,
    /// No backup at all.
    pub no_backup: bool,
}

impl RunChoices {
    /// The executor's options for a run on `url` to `target`.
    pub fn options(&self, url: &DbUrl, target: &str, direction: Direction) -> Options {
        let backup = match (url.backend, &self.backup_dir) {
            _ if self.no_backup => Backup::None,
            (Backend::Sqlite, dir) => Backup::SqliteCopy { dir: dir.clone() },
            (_, Some(dir)) => Backup::Dump {
                url: Box::new(url.clone()),
                dir: dir.clone(),
            },
            (_, None) => Backup::None,
        };
        Options {
            target: target.to_string(),
            direction,
            lock_timeout: Duration::from_secs(self.lock_timeout_secs),
            transaction: if self.one_transaction {
                TransactionMode::All
            } else {
                TransactionMode::PerRevision
            },
            ignore_drift: self.ignore_drift,
            adopt_partial: self.adopt_partial,
            require_compatible: self.require_compatible,
            fresh: if self.replay {
                Fresh::Replay
            } else {
                Fresh::Direct
            },
            uncertain: self.uncertain,
            backup,
            ..Options::default()
        }
    }

    /// A server database the run does not back up (no folder given, backups not refused):
    /// the command that would dump it into `file`, to take one by hand.
    pub fn manual_backup(&self, url: &DbUrl, file: &Path) -> Option<String> {
        let unbacked =
            url.backend != Backend::Sqlite && self.backup_dir.is_none() && !self.no_backup;
        unbacked.then(|| {
            let (tool, args) = dump_command(url, file);
            format!("{tool} {}", args.join(" "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_is_copied_unless_refused_and_servers_only_into_a_folder() {
        let sqlite = DbUrl::parse("sqlite:///app.db").unwrap();
        let server = DbUrl::parse("postgresql://u@localhost/app").unwrap();
        let plain = RunChoices::default();
        let backup = |c: &RunChoices, url| c.options(url, "heads", Direction::Up).backup;
        assert!(matches!(
            backup(&plain, &sqlite),
            Backup::SqliteCopy { dir: None }
        ));
        assert!(matches!(backup(&plain, &server), Backup::None));
        let refused = RunChoices {
            no_backup: true,
            ..RunChoices::default()
        };
        assert!(matches!(backup(&refused, &sqlite), Backup::None));
        let folder = RunChoices {
            backup_dir: Some("/b".into()),
            ..RunChoices::default()
        };
        assert!(matches!(backup(&folder, &server), Backup::Dump { .. }));
        let file = Path::new("BACKUP_FILE");
        assert!(plain
            .manual_backup(&server, file)
            .is_some_and(|c| c.starts_with("pg_dump ")));
        assert_eq!(folder.manual_backup(&server, file), None);
        assert_eq!(plain.manual_backup(&sqlite, file), None);
    }
}
