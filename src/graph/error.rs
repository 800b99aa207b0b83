//! Errors of building the graph and of resolving revision specs and paths.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error("revision id '{id}' is defined twice: in {first} and in {second}")]
    DuplicateRevision {
        id: String,
        first: String,
        second: String,
    },
    #[error("revision {revision} ({path}) has down_revision '{missing}', which is not a revision of this project")]
    UnknownDownRevision {
        revision: String,
        missing: String,
        path: String,
    },
    #[error("revision {revision} ({path}) depends on '{dependency}', which is neither a revision nor a branch label of this project")]
    UnknownDependency {
        revision: String,
        dependency: String,
        path: String,
    },
    #[error("cycle detected in the revisions: {}; a revision cannot be its own ancestor", cycle.join(" -> "))]
    Cycle { cycle: Vec<String> },
    #[error("branch label '{label}' of revision {revision} is already used by revision {other}")]
    DuplicateBranchLabel {
        label: String,
        revision: String,
        other: String,
    },
    #[error("no revision or branch label '{spec}'{}", if spec.len() < 4 { "; partial revision ids need at least four characters to be safe" } else { "" })]
    NoSuchRevision { spec: String },
    #[error("'{spec}' is ambiguous: it is a prefix of {}; give more characters", candidates.join(", "))]
    AmbiguousPrefix {
        spec: String,
        candidates: Vec<String>,
    },
    #[error("'{argument}' names one revision, but there are several heads: {}; use 'heads' for all of them, or '<branch>@head' for one branch", heads.join(", "))]
    MultipleHeads {
        argument: String,
        heads: Vec<String>,
    },
    #[error("no branch '{label}'")]
    NoSuchBranch { label: String },
    #[error("revision {revision} is not a member of branch '{branch}'")]
    NotInBranch { revision: String, branch: String },
    #[error("requested revision {revision} overlaps with the other requested revisions {}", others.join(", "))]
    Overlap {
        revision: String,
        others: Vec<String>,
    },
    #[error("revision {lower} is not an ancestor of revision {upper}")]
    NotAnAncestor { lower: String, upper: String },
    #[error("{0}")]
    Relative(String),
    #[error("history range '{range}' must be [start]:[end], [start]: or :[end]")]
    BadRange { range: String },
}
