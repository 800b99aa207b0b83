//! Alembic's revision grammar: `head`, `heads`, `base`, ids and unique prefixes, branch labels,
//! `label@head`, `label@base`, `rev@head`, and relative steps `[label@][rev](+|-)N`.

use std::collections::HashSet;

use super::{GraphError, Ix, RevisionGraph};

/// Where a walk or a lookup lands: a revision, the empty state below every base, or nowhere
/// (a walk that went past the ends of the graph).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Rev(Ix),
    Base,
    Nowhere,
}

/// The "current" side of a path query, as Alembic receives it: nothing, one spec string (which
/// may carry a branch label or a relative step), or a tuple of revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lower {
    None,
    One(String),
    Many(Vec<String>),
}

impl Lower {
    pub(crate) fn items(&self) -> Vec<&str> {
        match self {
            Lower::None => Vec::new(),
            Lower::One(s) => vec![s.as_str()],
            Lower::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Lower::None => "base".into(),
            Lower::One(s) => s.clone(),
            Lower::Many(v) if v.is_empty() => "base".into(),
            Lower::Many(v) => v.join(", "),
        }
    }
}

/// A relative spec `[label@][symbol](+|-)N`, matched from the start of the string like
/// Alembic's pattern (the label is the shortest prefix before an `@` that lets the rest match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relative {
    pub branch: Option<String>,
    pub symbol: Option<String>,
    pub steps: i64,
    pub steps_text: String,
}

pub(crate) fn parse_relative(spec: &str) -> Option<Relative> {
    let try_rest = |rest: &str| -> Option<(Option<String>, i64, String)> {
        let word_len: usize = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(rest.len(), |(i, _)| i);
        let (symbol, tail) = rest.split_at(word_len);
        let sign = tail.chars().next().filter(|c| *c == '+' || *c == '-')?;
        let digits: String = tail[1..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if digits.is_empty() {
            return None;
        }
        let text = format!("{sign}{digits}");
        let n: i64 = text.parse().ok()?;
        Some(((!symbol.is_empty()).then(|| symbol.to_string()), n, text))
    };
    for (at, _) in spec.match_indices('@') {
        let branch = &spec[..at];
        if branch.is_empty() || branch.contains('\n') {
            continue;
        }
        if let Some((symbol, steps, steps_text)) = try_rest(&spec[at + 1..]) {
            return Some(Relative {
                branch: Some(branch.to_string()),
                symbol,
                steps,
                steps_text,
            });
        }
    }
    try_rest(spec).map(|(symbol, steps, steps_text)| Relative {
        branch: None,
        symbol,
        steps,
        steps_text,
    })
}

/// Python's `int()` on a revision string: optional sign, digits, underscores between digits,
/// surrounding whitespace.
fn python_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    if !body.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    let v: i64 = body.replace('_', "").parse().ok()?;
    Some(if neg { -v } else { v })
}

impl RevisionGraph {
    /// Split `label@rest` and expand the symbols `heads`, `head`, `base`.
    pub(crate) fn resolve_number(
        &self,
        spec: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), GraphError> {
        let Some(spec) = spec else {
            return Ok((Vec::new(), None));
        };
        let (branch, id) = match spec.split_once('@') {
            Some((b, rest)) => (Some(b.to_string()), rest),
            None => (None, spec),
        };
        let ids = match id {
            "heads" => match &branch {
                Some(b) => self
                    .filter_for_lineage(self.heads(), b, false)?
                    .into_iter()
                    .map(|ix| self.id(ix).to_string())
                    .collect(),
                None => self
                    .real_heads()
                    .iter()
                    .map(|&ix| self.id(ix).to_string())
                    .collect(),
            },
            "head" => match self.current_head(branch.as_deref())? {
                Some(ix) => vec![self.id(ix).to_string()],
                None => Vec::new(),
            },
            "base" => Vec::new(),
            other => vec![other.to_string()],
        };
        Ok((ids, branch))
    }

    /// The single versioned head (of a branch); an error naming them when there are several.
    pub fn current_head(&self, branch: Option<&str>) -> Result<Option<Ix>, GraphError> {
        let heads: Vec<Ix> = match branch {
            Some(b) => self.filter_for_lineage(self.heads(), b, false)?,
            None => self.heads().to_vec(),
        };
        if heads.len() > 1 {
            return Err(GraphError::MultipleHeads {
                argument: match branch {
                    Some(b) => format!("{b}@head"),
                    None => "head".into(),
                },
                heads: heads.iter().map(|&h| self.id(h).to_string()).collect(),
            });
        }
        Ok(heads.first().copied())
    }

    /// Revisions among `targets` that share lineage with `check_against` (a spec).
    pub(crate) fn filter_for_lineage(
        &self,
        targets: &[Ix],
        check_against: &str,
        include_dependencies: bool,
    ) -> Result<Vec<Ix>, GraphError> {
        let (ids, branch) = self.resolve_number(Some(check_against))?;
        let mut shares: Vec<String> = branch.into_iter().collect();
        shares.extend(ids);
        if shares.is_empty() {
            return Ok(targets.to_vec());
        }
        let mut against = HashSet::new();
        for s in &shares {
            if let Some(ix) = self.revision_for_ident(s, None)? {
                against.insert(ix);
            }
        }
        Ok(targets
            .iter()
            .copied()
            .filter(|&t| self.shares_lineage(t, &against, include_dependencies))
            .collect())
    }

    fn shares_lineage(
        &self,
        target: Ix,
        against: &HashSet<Ix>,
        include_dependencies: bool,
    ) -> bool {
        self.descendants(&[target], include_dependencies)
            .iter()
            .chain(self.ancestors(&[target], include_dependencies).iter())
            .any(|ix| against.contains(ix))
    }

    /// A branch label, or failing that any revision identifier.
    pub(crate) fn resolve_branch(&self, label: &str) -> Result<Ix, GraphError> {
        if let Some(&ix) = self.label_ix.get(label).or_else(|| self.by_id.get(label)) {
            return Ok(ix);
        }
        match self.revision_for_ident(label, None) {
            Ok(Some(ix)) => Ok(ix),
            _ => Err(GraphError::NoSuchBranch {
                label: label.to_string(),
            }),
        }
    }

    /// An id, a branch label or a unique prefix of either, optionally checked against a branch.
    pub(crate) fn revision_for_ident(
        &self,
        ident: &str,
        check_branch: Option<&str>,
    ) -> Result<Option<Ix>, GraphError> {
        let branch_rev = match check_branch {
            Some(b) if !b.is_empty() => Some(self.resolve_branch(b)?),
            _ => None,
        };
        let exact = self
            .by_id
            .get(ident)
            .or_else(|| self.label_ix.get(ident))
            .copied();
        let rev = match exact {
            Some(ix) => ix,
            None => {
                // Alembic matches prefixes against every key longer than three characters.
                let keys = self
                    .all()
                    .map(|ix| (self.id(ix), ix))
                    .chain(self.labels.iter().map(|(l, ix)| (l.as_str(), *ix)));
                let mut found: Vec<(&str, Ix)> = keys
                    .filter(|(k, _)| k.len() > 3 && k.starts_with(ident))
                    .collect();
                if let (Some(b), Some(_)) = (check_branch, branch_rev) {
                    let allowed: HashSet<Ix> = self
                        .filter_for_lineage(
                            &found.iter().map(|f| f.1).collect::<Vec<_>>(),
                            b,
                            false,
                        )?
                        .into_iter()
                        .collect();
                    found.retain(|f| allowed.contains(&f.1));
                }
                match found.as_slice() {
                    [] => {
                        return Err(GraphError::NoSuchRevision {
                            spec: ident.to_string(),
                        })
                    }
                    [(_, ix)] => *ix,
                    many => {
                        return Err(GraphError::AmbiguousPrefix {
                            spec: ident.to_string(),
                            candidates: many.iter().map(|(k, _)| k.to_string()).collect(),
                        })
                    }
                }
            }
        };
        if let (Some(b), Some(branch_ix)) = (check_branch, branch_rev) {
            if !self.shares_lineage(rev, &HashSet::from([branch_ix]), false) {
                return Err(GraphError::NotInBranch {
                    revision: self.id(rev).to_string(),
                    branch: b.to_string(),
                });
            }
        }
        Ok(Some(rev))
    }

    /// Every revision a spec names (`heads` names several, `base` none; `-N` walks down from
    /// each head).
    pub(crate) fn get_revisions(&self, spec: Option<&str>) -> Result<Vec<Slot>, GraphError> {
        let (ids, branch) = self.resolve_number(spec)?;
        if let [only] = ids.as_slice() {
            if let Some(n) = python_int(only).filter(|n| *n < 0) {
                let mut heads = Vec::new();
                for slot in self.get_revisions(Some("heads"))? {
                    if let Slot::Rev(h) = slot {
                        if branch.as_ref().is_none_or(|b| self.labels(h).contains(b)) {
                            heads.push(h);
                        }
                    }
                }
                return heads
                    .into_iter()
                    .map(|h| self.walk(Slot::Rev(h), n, None, true))
                    .collect();
            }
        }
        ids.iter()
            .map(|id| {
                Ok(match self.revision_for_ident(id, branch.as_deref())? {
                    Some(ix) => Slot::Rev(ix),
                    None => Slot::Base,
                })
            })
            .collect()
    }

    pub(crate) fn get_revisions_lower(&self, lower: &Lower) -> Result<Vec<Slot>, GraphError> {
        match lower {
            Lower::None => Ok(Vec::new()),
            _ => {
                let mut out = Vec::new();
                for item in lower.items() {
                    out.extend(self.get_revisions(Some(item))?);
                }
                Ok(out)
            }
        }
    }

    /// The one revision a spec names (`None` for base).
    pub(crate) fn get_revision(&self, spec: &str) -> Result<Option<Ix>, GraphError> {
        let (ids, branch) = self.resolve_number(Some(spec))?;
        if ids.len() > 1 {
            return Err(GraphError::MultipleHeads {
                argument: spec.to_string(),
                heads: ids,
            });
        }
        match ids.first() {
            Some(id) => self.revision_for_ident(id, branch.as_deref()),
            None => {
                if let Some(b) = branch.as_deref().filter(|b| !b.is_empty()) {
                    self.resolve_branch(b)?;
                }
                Ok(None)
            }
        }
    }

    /// Every revision a spec names, as `alembic show` resolves it: `heads`, ids, prefixes,
    /// labels, `label@head`, and `-N` / `label@-N` walked down from each head (one result per
    /// head, duplicates kept). `base` names nothing.
    pub fn resolve(&self, spec: &str) -> Result<Vec<Ix>, GraphError> {
        let mut out = Vec::new();
        for slot in self.get_revisions(Some(spec))? {
            match slot {
                Slot::Rev(ix) => out.push(ix),
                Slot::Base => {}
                Slot::Nowhere => {
                    return Err(GraphError::Relative(format!(
                        "'{spec}' walks past the ends of the revision graph"
                    )))
                }
            }
        }
        Ok(out)
    }

    /// Walk `steps` revisions up (positive) or down (negative) from `start`.
    pub(crate) fn walk(
        &self,
        start: Slot,
        steps: i64,
        branch: Option<&str>,
        no_overwalk: bool,
    ) -> Result<Slot, GraphError> {
        let mut at = start;
        for _ in 0..steps.unsigned_abs() {
            let children: Vec<Slot> = if steps > 0 {
                let up: Vec<Ix> = match at {
                    Slot::Base => {
                        return Err(GraphError::Relative(
                            "cannot walk up from 'base'; name a revision or use +N alone".into(),
                        ))
                    }
                    Slot::Nowhere => self.bases().to_vec(),
                    Slot::Rev(ix) => self.children(ix).to_vec(),
                };
                let up = match branch {
                    Some(b) => self.filter_for_lineage(&up, b, false)?,
                    None => up,
                };
                up.into_iter().map(Slot::Rev).collect()
            } else {
                match at {
                    Slot::Base => Vec::new(),
                    Slot::Nowhere => self.heads().iter().map(|&h| Slot::Rev(h)).collect(),
                    Slot::Rev(ix) if self.parents(ix).is_empty() => vec![Slot::Base],
                    Slot::Rev(ix) => self.parents(ix).iter().map(|&p| Slot::Rev(p)).collect(),
                }
            };
            match children.as_slice() {
                [] => return Ok(if no_overwalk { Slot::Nowhere } else { at }),
                [one] => at = *one,
                _ => {
                    return Err(GraphError::Relative(format!(
                        "ambiguous walk: more than one revision is {} steps {} from the start",
                        steps.unsigned_abs(),
                        if steps > 0 { "up" } else { "down" }
                    )))
                }
            }
        }
        Ok(at)
    }

    pub(crate) fn slot_of(&self, ix: Option<Ix>) -> Slot {
        ix.map_or(Slot::Nowhere, Slot::Rev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_specs_match_like_alembic() {
        let r = parse_relative("ae10+2").unwrap();
        assert_eq!(
            (r.branch, r.symbol.as_deref(), r.steps),
            (None, Some("ae10"), 2)
        );
        let r = parse_relative("lbl@-1").unwrap();
        assert_eq!(
            (r.branch.as_deref(), r.symbol, r.steps),
            (Some("lbl"), None, -1)
        );
        let r = parse_relative("+3").unwrap();
        assert_eq!((r.branch, r.symbol, r.steps), (None, None, 3));
        assert!(parse_relative("heads").is_none());
        assert!(parse_relative("lbl@head").is_none());
        // Like a regex `match`, trailing text after the digits is ignored.
        assert_eq!(parse_relative("abc-1x").unwrap().steps, -1);
    }

    #[test]
    fn python_int_rules() {
        assert_eq!(python_int("-1"), Some(-1));
        assert_eq!(python_int(" 1_000 "), Some(1000));
        assert_eq!(python_int("1__0"), None);
        assert_eq!(python_int("ae10"), None);
    }
}
