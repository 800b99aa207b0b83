//! Recipes: hand-written replacements for revisions whose scripts the interpreter cannot run
//! as they are (data migrations that read rows in Python), pinned to the sha256 of the script
//! they replace.
//!
//! A recipe is a Python module in the same subset as revision scripts (`revisions/<project>/
//! recipes/<revision>.py`), run by the same compiler. It may import the original script as
//! `alembic_engine.original` to reuse its DDL helpers. A script whose sha256 differs from the
//! pin is refused, never migrated by a stale recipe. Each recipe explains itself in its
//! docstring.

use std::path::{Path, PathBuf};

use crate::script::{parse_revision, Revision, ScriptError};

/// The built-in recipes, embedded in the binary.
const MLFLOW_RECIPES: &[(&str, &str)] = &[
    (
        "1b5f0d9ad7c1.py",
        include_str!("../revisions/mlflow/recipes/1b5f0d9ad7c1.py"),
    ),
    (
        "90e64c465722.py",
        include_str!("../revisions/mlflow/recipes/90e64c465722.py"),
    ),
    (
        "89d4b8295536.py",
        include_str!("../revisions/mlflow/recipes/89d4b8295536.py"),
    ),
    (
        "75868b020152.py",
        include_str!("../revisions/mlflow/recipes/75868b020152.py"),
    ),
    (
        "dc11669786a5.py",
        include_str!("../revisions/mlflow/recipes/dc11669786a5.py"),
    ),
    // Revisions of MLflow 3.18.0, newer than the pinned wheel (`--scripts-from-release`).
    (
        "8b6ad64cb8f5.py",
        include_str!("../revisions/mlflow/recipes/8b6ad64cb8f5.py"),
    ),
    (
        "f4a9b2c7d1e6.py",
        include_str!("../revisions/mlflow/recipes/f4a9b2c7d1e6.py"),
    ),
];

const MLFLOW_AUTH_RECIPES: &[(&str, &str)] = &[(
    "e5f6a7b8c9d0.py",
    include_str!("../revisions/mlflow-auth/recipes/e5f6a7b8c9d0.py"),
)];

/// The recipes for projects found by their package (`revisions/<package>/recipes/`).
const PACKAGE_RECIPES: &[(&str, &[(&str, &str)])] = &[
    (
        "prefect",
        &[
            (
                "1678f2fb8b33.py",
                include_str!("../revisions/prefect/recipes/1678f2fb8b33.py"),
            ),
            (
                "1c9390e2f9c6.py",
                include_str!("../revisions/prefect/recipes/1c9390e2f9c6.py"),
            ),
            (
                "22b7cb02e593.py",
                include_str!("../revisions/prefect/recipes/22b7cb02e593.py"),
            ),
            (
                "22ef3915ccd8.py",
                include_str!("../revisions/prefect/recipes/22ef3915ccd8.py"),
            ),
            (
                "2ac65f1758c2.py",
                include_str!("../revisions/prefect/recipes/2ac65f1758c2.py"),
            ),
            (
                "2dbcec43c857.py",
                include_str!("../revisions/prefect/recipes/2dbcec43c857.py"),
            ),
            (
                "2fe6fe6ca16e.py",
                include_str!("../revisions/prefect/recipes/2fe6fe6ca16e.py"),
            ),
            (
                "33439667aeea.py",
                include_str!("../revisions/prefect/recipes/33439667aeea.py"),
            ),
            (
                "4cdc2ba709a4.py",
                include_str!("../revisions/prefect/recipes/4cdc2ba709a4.py"),
            ),
            (
                "4ff2f2bf81f4.py",
                include_str!("../revisions/prefect/recipes/4ff2f2bf81f4.py"),
            ),
            (
                "50737cdaee36.py",
                include_str!("../revisions/prefect/recipes/50737cdaee36.py"),
            ),
            (
                "724e6dcc6b5d.py",
                include_str!("../revisions/prefect/recipes/724e6dcc6b5d.py"),
            ),
            (
                "7655f31c5157.py",
                include_str!("../revisions/prefect/recipes/7655f31c5157.py"),
            ),
            (
                "9e83011d1f2a.py",
                include_str!("../revisions/prefect/recipes/9e83011d1f2a.py"),
            ),
            (
                "b75d279ba985.py",
                include_str!("../revisions/prefect/recipes/b75d279ba985.py"),
            ),
            (
                "db6bde582447.py",
                include_str!("../revisions/prefect/recipes/db6bde582447.py"),
            ),
            (
                "e2dae764a603.py",
                include_str!("../revisions/prefect/recipes/e2dae764a603.py"),
            ),
            (
                "e73c6f1fe752.py",
                include_str!("../revisions/prefect/recipes/e73c6f1fe752.py"),
            ),
            (
                "f335f9633eec.py",
                include_str!("../revisions/prefect/recipes/f335f9633eec.py"),
            ),
            (
                "f92143d30c25.py",
                include_str!("../revisions/prefect/recipes/f92143d30c25.py"),
            ),
            (
                "f92143d30c26.py",
                include_str!("../revisions/prefect/recipes/f92143d30c26.py"),
            ),
        ],
    ),
    (
        "airflow",
        &[
            (
                "5f2621c13b39.py",
                include_str!("../revisions/airflow/recipes/5f2621c13b39.py"),
            ),
            (
                "686269002441.py",
                include_str!("../revisions/airflow/recipes/686269002441.py"),
            ),
            (
                "d59cbbef95eb.py",
                include_str!("../revisions/airflow/recipes/d59cbbef95eb.py"),
            ),
            (
                "7645189f3479.py",
                include_str!("../revisions/airflow/recipes/7645189f3479.py"),
            ),
            (
                "eed27faa34e3.py",
                include_str!("../revisions/airflow/recipes/eed27faa34e3.py"),
            ),
            (
                "e39a26ac59f6.py",
                include_str!("../revisions/airflow/recipes/e39a26ac59f6.py"),
            ),
            (
                "808787349f22.py",
                include_str!("../revisions/airflow/recipes/808787349f22.py"),
            ),
            (
                "e812941398f4.py",
                include_str!("../revisions/airflow/recipes/e812941398f4.py"),
            ),
            (
                "55297ae24532.py",
                include_str!("../revisions/airflow/recipes/55297ae24532.py"),
            ),
            (
                "1d6611b6ab7c.py",
                include_str!("../revisions/airflow/recipes/1d6611b6ab7c.py"),
            ),
        ],
    ),
];

/// The temporary table a recipe's guard (`alembic_engine.refuse_if_rows`) counts into.
const GUARD_TABLE: &str = "alembic_engine_guard";
const GUARD_INSERT: &str = "INSERT INTO alembic_engine_guard (n) SELECT COUNT(*) FROM (";

/// The statements of a recipe's guard named `check`: they fail, at the second, when `query`
/// returns a row (a CHECK on a temporary table: portable to the three servers, and the
/// database's error names the check).
pub fn guard_statements(check: &str, query: &str) -> [String; 3] {
    [
        format!(
            "CREATE TEMPORARY TABLE {GUARD_TABLE} (n INTEGER, CONSTRAINT {check} CHECK (n = 0))"
        ),
        format!("{GUARD_INSERT}{query}) AS {check}"),
        format!("DROP TABLE {GUARD_TABLE}"),
    ]
}

/// Whether `name` can name a guard's check: a plain identifier that fits every database's
/// limit (63 characters on PostgreSQL).
pub fn is_check_name(name: &str) -> bool {
    (1..=63).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A guard's counting statement: its check's name and its query.
pub fn guard_of(sql: &str) -> Option<(&str, &str)> {
    let rest = sql.strip_prefix(GUARD_INSERT)?;
    let (query, check) = rest.rsplit_once(") AS ")?;
    is_check_name(check).then_some((check, query))
}

#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("recipe {recipe}: {source}")]
    Parse {
        recipe: PathBuf,
        #[source]
        source: ScriptError,
    },
    #[error("recipe {recipe}: no module variable `script_sha256` pinning the script it replaces (a string, or a tuple of strings for versions of the script reviewed to do the same)")]
    NoPin { recipe: PathBuf },
    #[error("recipe {recipe}: `twins` must be a dict of revision ids to pins (a sha256 string, or a tuple of them)")]
    BadTwins { recipe: PathBuf },
    #[error("revision {revision} ({path}) has sha256 {actual}, but the data-migration recipe this tool ships for it is pinned to {expected}: the script changed since the recipe was written and tested, so it is refused rather than migrated by a recipe that may no longer match it. Use the MLflow scripts this tool pins (or the mlflow-migrate release made for your MLflow version)")]
    PinMismatch {
        revision: String,
        path: PathBuf,
        recipe: PathBuf,
        expected: String,
        actual: String,
    },
}

#[derive(Debug, Clone)]
pub struct Recipe {
    /// The recipe module, read like a revision script.
    pub module: Revision,
    /// The sha256 of each version of the script the recipe was reviewed against (MLflow
    /// sometimes edits a published revision: 3.18.0 changed how 75868b020152 pages).
    pub script_sha256: Vec<String>,
    /// Other revisions the recipe serves, each with its scripts' sha256s: the same script in
    /// another chain (Prefect keeps one chain per database, a revision id each), from the
    /// module's `twins = {"<revision>": "<sha256>"}`.
    pub twins: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, Default)]
pub struct RecipeBook {
    recipes: Vec<Recipe>,
}

/// The value assigned to module variable `name`.
fn module_variable<'a>(
    module: &'a crate::script::ast::Module,
    name: &str,
) -> Option<&'a crate::script::ast::Expr> {
    use crate::script::ast::{ExprKind, StmtKind};
    module.body.iter().find_map(|s| match &s.kind {
        StmtKind::Assign { targets, value }
            if targets
                .iter()
                .any(|t| matches!(&t.kind, ExprKind::Name(n) if n == name)) =>
        {
            Some(value)
        }
        _ => None,
    })
}

/// A pin: one sha256, or a tuple of them.
fn pins(e: &crate::script::ast::Expr) -> Option<Vec<String>> {
    use crate::script::ast::ExprKind;
    let text = |e: &crate::script::ast::Expr| match &e.kind {
        ExprKind::Str(v) => Some(v.clone()),
        _ => None,
    };
    match &e.kind {
        ExprKind::Str(v) => Some(vec![v.clone()]),
        ExprKind::Tuple(items) if !items.is_empty() => items.iter().map(text).collect(),
        _ => None,
    }
}

fn read_pin(rev: &Revision) -> Option<Vec<String>> {
    pins(module_variable(&rev.module, "script_sha256")?)
}

/// The sha256s a module pins in variable `name` (a string, or a tuple of them); empty when it
/// pins none.
pub(crate) fn pinned(module: &crate::script::ast::Module, name: &str) -> Vec<String> {
    module_variable(module, name)
        .and_then(pins)
        .unwrap_or_default()
}

/// `twins = {"<revision>": <pin>, ...}`; `None` when malformed.
fn read_twins(rev: &Revision) -> Option<Vec<(String, Vec<String>)>> {
    use crate::script::ast::ExprKind;
    let Some(value) = module_variable(&rev.module, "twins") else {
        return Some(Vec::new());
    };
    let ExprKind::Dict(items) = &value.kind else {
        return None;
    };
    items
        .iter()
        .map(|(k, v)| match k.as_ref().map(|k| &k.kind) {
            Some(ExprKind::Str(id)) => Some((id.clone(), pins(v)?)),
            _ => None,
        })
        .collect()
}

impl RecipeBook {
    /// The recipes that ship for a built-in project (`mlflow`, `mlflow-auth`).
    pub fn builtin(project: &str) -> Result<RecipeBook, RecipeError> {
        let files = match project {
            "mlflow" => MLFLOW_RECIPES,
            "mlflow-auth" => MLFLOW_AUTH_RECIPES,
            _ => &[],
        };
        Self::from_files(project, files)
    }

    /// The recipes that ship for a generic project whose scripts live in Python package
    /// `package` (`revisions/<package>/recipes/`); empty for a package we know nothing of.
    pub fn for_package(package: &str) -> Result<RecipeBook, RecipeError> {
        let files = PACKAGE_RECIPES
            .iter()
            .find(|(name, _)| *name == package)
            .map_or(&[][..], |(_, files)| files);
        Self::from_files(package, files)
    }

    fn from_files(folder: &str, files: &[(&str, &str)]) -> Result<RecipeBook, RecipeError> {
        let mut recipes = Vec::new();
        for (name, source) in files {
            let path = Path::new("revisions")
                .join(folder)
                .join("recipes")
                .join(name);
            recipes.push(Self::parse(&path, source)?);
        }
        Ok(RecipeBook { recipes })
    }

    fn parse(path: &Path, source: &str) -> Result<Recipe, RecipeError> {
        let module =
            parse_revision(path, source, String::new()).map_err(|source| RecipeError::Parse {
                recipe: path.to_path_buf(),
                source,
            })?;
        let script_sha256 = read_pin(&module).ok_or_else(|| RecipeError::NoPin {
            recipe: path.to_path_buf(),
        })?;
        let twins = read_twins(&module).ok_or_else(|| RecipeError::BadTwins {
            recipe: path.to_path_buf(),
        })?;
        Ok(Recipe {
            module,
            script_sha256,
            twins,
        })
    }

    pub fn len(&self) -> usize {
        self.recipes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recipes.is_empty()
    }

    /// The recipe that replaces `rev` (as its own revision or a twin), checked against the
    /// script's sha256.
    pub fn lookup(&self, rev: &Revision) -> Result<Option<&Recipe>, RecipeError> {
        let found = self.recipes.iter().find_map(|r| {
            if r.module.id == rev.id {
                return Some((r, &r.script_sha256));
            }
            r.twins
                .iter()
                .find(|(id, _)| *id == rev.id)
                .map(|(_, pin)| (r, pin))
        });
        let Some((recipe, pin)) = found else {
            return Ok(None);
        };
        if !pin.contains(&rev.sha256) {
            return Err(RecipeError::PinMismatch {
                revision: rev.id.clone(),
                path: rev.path.clone(),
                recipe: recipe.module.path.clone(),
                expected: pin.join(" or "),
                actual: rev.sha256.clone(),
            });
        }
        Ok(Some(recipe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_recipes_parse_and_are_pinned() {
        let book = RecipeBook::builtin("mlflow").unwrap();
        assert_eq!(book.len(), MLFLOW_RECIPES.len());
        for r in &book.recipes {
            assert!(
                r.script_sha256.iter().all(|h| h.len() == 64),
                "{}",
                r.module.id
            );
        }
        assert_eq!(RecipeBook::builtin("mlflow-auth").unwrap().len(), 1);
        for (package, files) in PACKAGE_RECIPES {
            let book = RecipeBook::for_package(package).unwrap();
            assert_eq!(book.len(), files.len(), "{package}");
            for r in &book.recipes {
                let twin_pins = r.twins.iter().flat_map(|(_, pin)| pin);
                assert!(twin_pins.chain(&r.script_sha256).all(|h| h.len() == 64));
            }
        }
        assert!(RecipeBook::for_package("no_such_package")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_guard_names_its_check_and_query() {
        let [create, count, drop] = guard_statements("no_pickles", "SELECT id FROM t WHERE (a)");
        assert!(
            create.contains("CONSTRAINT no_pickles CHECK (n = 0)"),
            "{create}"
        );
        assert_eq!(
            guard_of(&count),
            Some(("no_pickles", "SELECT id FROM t WHERE (a)"))
        );
        assert_eq!(guard_of(&drop), None);
        assert_eq!(guard_of(&create), None);
        // A recipe's own count into the same table (MLflow auth's e5f6a7b8c9d0) is not one.
        let own = format!("{GUARD_INSERT}SELECT a FROM b) AS t JOIN c AS r ON r.x = t.x");
        assert_eq!(guard_of(&own), None);
    }

    #[test]
    fn a_twin_revision_is_served_by_its_recipe_under_its_own_pin() {
        let source = "revision = 'aaaaaaaaaaaa'\ndown_revision = None\n\
                      script_sha256 = '1111111111111111111111111111111111111111111111111111111111111111'\n\
                      twins = {'bbbbbbbbbbbb': '2222222222222222222222222222222222222222222222222222222222222222'}\n";
        let recipe = RecipeBook::parse(Path::new("r.py"), source).unwrap();
        let book = RecipeBook {
            recipes: vec![recipe],
        };
        let mut twin = Revision::synthetic("bbbbbbbbbbbb", &[], &[], &[]);
        twin.sha256 = "2".repeat(64);
        assert_eq!(
            book.lookup(&twin).unwrap().unwrap().module.id,
            "aaaaaaaaaaaa"
        );
        twin.sha256 = "1".repeat(64);
        assert!(book.lookup(&twin).is_err(), "a twin is held to its own pin");
        let bad = format!(
            "{}twins = ['bbbbbbbbbbbb']\n",
            &source[..source.find("twins").unwrap()]
        );
        assert!(matches!(
            RecipeBook::parse(Path::new("r.py"), &bad),
            Err(RecipeError::BadTwins { .. })
        ));
    }

    #[test]
    fn a_changed_script_is_refused() {
        let book = RecipeBook::builtin("mlflow").unwrap();
        let mut rev = Revision::synthetic("90e64c465722", &["451aebb31d03"], &[], &[]);
        rev.sha256 = "0".repeat(64);
        let err = book.lookup(&rev).unwrap_err();
        assert!(err.to_string().contains("script changed"), "{err}");
    }
}
