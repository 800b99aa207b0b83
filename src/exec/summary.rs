//! Per-revision figures of a run, gathered from its progress events: what the finished
//! display and the JSON summary show. The engine's own bookkeeping (version-table changes,
//! journal rows) is not counted.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Event;
use crate::graph::Direction;

/// One revision as the run applied it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionReport {
    pub revision: String,
    pub direction: Direction,
    pub message: String,
    /// The later revisions fused into its unit, which ran with it (their statements and
    /// time are counted here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub joined: Vec<String>,
    /// Its own statements (the version change not counted).
    pub statements: usize,
    /// Rows its data statements changed.
    pub rows: u64,
    /// Wall time, from its first statement to its checkpoint.
    #[serde(rename = "seconds", serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// Feed it every event of a run; `finish` gives the revisions in the order they ran.
#[derive(Debug)]
pub struct Summary {
    version_table: String,
    revisions: Vec<RevisionReport>,
    started: Option<Instant>,
}

impl Summary {
    /// `version_table`: the project's, whose changes are bookkeeping.
    pub fn new(version_table: &str) -> Summary {
        Summary {
            version_table: version_table.to_string(),
            revisions: Vec::new(),
            started: None,
        }
    }

    pub fn observe(&mut self, event: &Event) {
        let bookkeeping = |summary: &str| summary.ends_with(&format!(" {}", self.version_table));
        match event {
            Event::Step {
                revision,
                direction,
                message,
                joined,
                ..
            } => {
                self.close();
                self.started = Some(Instant::now());
                self.revisions.push(RevisionReport {
                    revision: revision.clone(),
                    direction: *direction,
                    message: message.clone(),
                    joined: joined.clone(),
                    statements: 0,
                    rows: 0,
                    elapsed: Duration::ZERO,
                });
            }
            Event::Statement { summary, .. } if !bookkeeping(summary) => {
                if let Some(r) = self.revisions.last_mut() {
                    r.statements += 1;
                }
            }
            Event::Rows { summary, rows, .. } if !bookkeeping(summary) => {
                if let Some(r) = self.revisions.last_mut() {
                    r.rows += rows;
                }
            }
            Event::Committed { .. } => self.close(),
            _ => {}
        }
    }

    fn close(&mut self) {
        if let (Some(start), Some(r)) = (self.started.take(), self.revisions.last_mut()) {
            r.elapsed = start.elapsed();
        }
    }

    pub fn finish(mut self) -> Vec<RevisionReport> {
        self.close();
        self.revisions
    }
}
