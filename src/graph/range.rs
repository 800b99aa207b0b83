//! What a command line writes for a stretch of the graph: a history range `[start]:[end]`,
//! an offline script's `[FROM:]TO`, and a database state as comma-separated specs. Each is
//! read here once, so every caller defaults the missing side the same way.

use super::{GraphError, RevisionGraph};

/// A history range, `[start]:[end]`: each side defaults to `base` and `heads`; `None` is the
/// whole history.
///
/// ```
/// use alembic_engine::graph::history_range;
///
/// assert_eq!(history_range(None)?, ("base".to_string(), "heads".to_string()));
/// assert_eq!(history_range(Some("ae10:"))?, ("ae10".to_string(), "heads".to_string()));
/// assert_eq!(history_range(Some(" :label@head"))?, ("base".to_string(), "label@head".to_string()));
/// assert!(history_range(Some("ae10")).is_err());
/// # Ok::<(), alembic_engine::graph::GraphError>(())
/// ```
pub fn history_range(range: Option<&str>) -> Result<(String, String), GraphError> {
    let Some(text) = range else {
        return Ok(("base".into(), "heads".into()));
    };
    let (start, end) = text
        .trim()
        .split_once(':')
        .ok_or_else(|| GraphError::BadRange {
            range: text.to_string(),
        })?;
    let or = |side: &str, default: &str| if side.is_empty() { default } else { side }.to_string();
    Ok((or(start, "base"), or(end, "heads")))
}

/// An offline script's range, `[FROM:]TO`: without `FROM` (or with it empty), from `base`.
///
/// ```
/// use alembic_engine::graph::script_range;
///
/// assert_eq!(script_range("heads"), ("base", "heads"));
/// assert_eq!(script_range(":heads"), ("base", "heads"));
/// assert_eq!(script_range("heads:base"), ("heads", "base"));
/// ```
pub fn script_range(range: &str) -> (&str, &str) {
    match range.split_once(':') {
        Some(("", to)) => ("base", to),
        Some((from, to)) => (from, to),
        None => ("base", range),
    }
}

impl RevisionGraph {
    /// The version rows a database would hold in the state `specs`: each comma-separated
    /// spec resolved to revision ids (`base` to none), in the order given.
    pub fn state_of(&self, specs: &str) -> Result<Vec<String>, GraphError> {
        let mut ids = Vec::new();
        for spec in specs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            for ix in self.resolve(spec)? {
                ids.push(self.id(ix).to_string());
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::RevisionGraph;
    use crate::script::Revision;

    #[test]
    fn a_state_resolves_each_spec_and_base_to_nothing() {
        let graph = RevisionGraph::build(vec![
            Revision::synthetic("aaaa1111", &[], &[], &[]),
            Revision::synthetic("bbbb2222", &["aaaa1111"], &[], &[]),
            Revision::synthetic("cccc3333", &["aaaa1111"], &[], &[]),
        ])
        .unwrap();
        assert!(graph.state_of("base").unwrap().is_empty());
        assert_eq!(
            graph.state_of("bbbb, cccc3333").unwrap(),
            ["bbbb2222", "cccc3333"]
        );
        assert!(graph.state_of("dddd").is_err());
    }
}
