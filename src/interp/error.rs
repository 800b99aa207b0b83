//! What can stop an evaluation: plan errors (our limits and limitations, which no `except`
//! sees) and Python exceptions in flight (which `except` may catch).

use std::path::PathBuf;

use super::value::Value;
use crate::script::ast::Pos;

/// Why a script could not be evaluated. Each variant names the file and the position in it;
/// `Display` is one sentence.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Valid Python the interpreter does not model (a `match` statement, a decorator, ...).
    #[error("{path}:{pos}: unsupported construct: {what}")]
    Unsupported {
        path: PathBuf,
        pos: Pos,
        what: String,
    },
    /// A use of something imported that the host does not model.
    #[error("{path}:{pos}: `{name}` is not modeled ({action})")]
    NotModeled {
        path: PathBuf,
        pos: Pos,
        /// The dotted name it was imported as, e.g. `mlflow.utils.foo`.
        name: String,
        /// What the script tried to do with it, e.g. "reading attribute `bar`".
        action: String,
    },
    /// A host object refused an operation, or reported a problem of its own.
    #[error("{path}:{pos}: {type_name}: {message}")]
    Native {
        path: PathBuf,
        pos: Pos,
        type_name: String,
        message: String,
    },
    /// A Python exception that no `except` caught.
    #[error("{path}:{pos}: uncaught {exception}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Uncaught {
        path: PathBuf,
        pos: Pos,
        exception: String,
        message: String,
    },
    /// A recursion or loop limit was reached.
    #[error("{path}:{pos}: limit reached: {what}")]
    Limit {
        path: PathBuf,
        pos: Pos,
        what: String,
    },
}

impl Error {
    /// The file the error is in.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Error::Unsupported { path, .. }
            | Error::NotModeled { path, .. }
            | Error::Native { path, .. }
            | Error::Uncaught { path, .. }
            | Error::Limit { path, .. } => path,
        }
    }

    /// The line and column the error is at.
    pub fn pos(&self) -> Pos {
        match self {
            Error::Unsupported { pos, .. }
            | Error::NotModeled { pos, .. }
            | Error::Native { pos, .. }
            | Error::Uncaught { pos, .. }
            | Error::Limit { pos, .. } => *pos,
        }
    }
}

/// A Python exception in flight, with where it was raised.
#[derive(Debug, Clone)]
pub struct Raised {
    /// An instance of a class derived from `BaseException`.
    pub exception: Value,
    pub path: PathBuf,
    pub pos: Pos,
}

/// Abnormal end of an evaluation step.
#[derive(Debug, Clone)]
pub enum Failure {
    /// A Python exception: `except` clauses may catch it.
    Raised(Box<Raised>),
    /// A plan error: never catchable, it ends the evaluation.
    Error(Box<Error>),
}

impl Failure {
    /// The plan error, if this is one.
    pub fn as_error(&self) -> Option<&Error> {
        match self {
            Failure::Error(e) => Some(e),
            Failure::Raised(_) => None,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(Box::new(e))
    }
}

/// The result type of evaluation steps and of host objects.
pub type Result<T, E = Failure> = std::result::Result<T, E>;
