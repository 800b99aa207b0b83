//! The reference side of schema conformance: databases built by Python Alembic the way MLflow
//! builds them, and their normalized reflection and rows (compare with `schema_diff`).
//!
//! Everything Python is done by `tests/support/reference.py serve`, a few long-lived
//! processes of the reference interpreter (one per test thread at most), so a test pays for
//! Python's and MLflow's start-up once, not per request.
//!
//! A reference database at every revision is made by walking ONE database up the chain and
//! copying it at each revision asked for (`ReferenceLadder`); `for_each_revision` hands a test
//! the database at r's parent and the reference's reflection at r for every r, for one full
//! upgrade plus one copy per revision, and `walk_reflections` gives the reflections alone for
//! one full upgrade and no copy.

#![allow(dead_code)] // each test crate uses its own subset of these helpers

use super::db::{Dialect, TestDb};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The pseudo-revision before a project's first one: MLflow's initial models (the tracking
/// store), an empty database (the others).
pub const INITIAL: &str = "initial";

/// Whose tooling builds the reference database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Project {
    /// MLflow's tracking store: initial models, then Alembic (`mlflow db upgrade`).
    Mlflow,
    /// MLflow's auth store; version table `alembic_version_auth`.
    MlflowAuth,
    /// A project under `revisions/fixtures/`, by its `alembic.ini`.
    Fixture,
}

impl Project {
    fn cli_name(self) -> &'static str {
        match self {
            Project::Mlflow => "mlflow",
            Project::MlflowAuth => "mlflow-auth",
            Project::Fixture => "fixture",
        }
    }

    pub fn version_table(self) -> &'static str {
        match self {
            Project::MlflowAuth => "alembic_version_auth",
            _ => "alembic_version",
        }
    }

    /// MLflow's scripts as installed in the reference environment; a fixture has none.
    pub fn scripts_dir(self) -> PathBuf {
        match self {
            Project::Mlflow => super::mlflow_scripts_dir(),
            Project::MlflowAuth => super::mlflow_auth_scripts_dir(),
            Project::Fixture => panic!("a fixture project has no default scripts; pass its dir"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One-off requests

/// Bring `db` to `to` (a revision, `heads`, or `INITIAL`) with the project's real tooling:
/// from empty as a fresh install does, or onwards from the revision it is at.
pub fn build_reference(db: &TestDb, project: Project, scripts_dir: &Path, to: &str) {
    try_build_reference(db, project, scripts_dir, to)
        .unwrap_or_else(|e| panic!("the reference could not build {db:?} to {to}:\n{e}"));
}

/// `build_reference`, for the tests that expect the project's tooling to fail: Err carries
/// its message or traceback.
pub fn try_build_reference(
    db: &TestDb,
    project: Project,
    scripts_dir: &Path,
    to: &str,
) -> Result<(), String> {
    request(json!({
        "op": "build",
        "url": db.sqlalchemy_url(),
        "project": project.cli_name(),
        "scripts": scripts_dir,
        "to": to,
    }))
    .map(drop)
}

/// MLflow's own Alembic downgrade of `db` (the tracking project) to `to`: Err carries its
/// message or traceback.
pub fn try_mlflow_downgrade(db: &TestDb, to: &str) -> Result<(), String> {
    request(json!({
        "op": "downgrade",
        "url": db.sqlalchemy_url(),
        "project": "mlflow",
        "scripts": super::mlflow_scripts_dir(),
        "to": to,
    }))
    .map(drop)
}

/// The normalized reflection of the whole database (see `reference.py` for its rules):
/// `{"dialect", "tables": {name: {"columns", "primary_key", "foreign_keys",
/// "unique_constraints", "check_constraints", "indexes", "options"}}, "versions", "triggers",
/// "views", and on PostgreSQL "enums", "sequences", "functions"}`.
pub fn reflect(db: &TestDb, version_table: &str) -> Value {
    request(json!({"op": "reflect", "url": db.sqlalchemy_url(), "version_table": version_table}))
        .unwrap_or_else(|e| panic!("the reference could not reflect {db:?}:\n{e}"))
}

/// Every table's rows: `{table: {"columns", "primary_key", "rows": [[cell...]...]}}`, rows
/// ordered by primary key then all columns; floats `{"float": repr}`, bytes `{"hex": ..}`.
pub fn rows(db: &TestDb) -> Value {
    request(json!({"op": "rows", "url": db.sqlalchemy_url()}))
        .unwrap_or_else(|e| panic!("the reference could not read the rows of {db:?}:\n{e}"))
}

/// Fill `db` (MLflow's tracking schema at some revision) with `tests/support/populate.py`'s
/// seeded data, about `metrics` metric rows; the answer counts the rows written per table.
pub fn populate(db: &TestDb, metrics: usize) -> Value {
    request(json!({"op": "populate", "url": db.sqlalchemy_url(), "metrics": metrics}))
        .unwrap_or_else(|e| panic!("the reference could not populate {db:?}:\n{e}"))
}

/// Fill `db` (at `7ac759974ad8`, before `latest_metrics`) with `populate.py`'s adversarial
/// metric ties; `nan_tie` adds the one Python cannot migrate (see the recipe 89d4b8295536).
pub fn populate_ties(db: &TestDb, nan_tie: bool) -> Value {
    request(json!({"op": "populate_ties", "url": db.sqlalchemy_url(), "nan_tie": nan_tie}))
        .unwrap_or_else(|e| panic!("the reference could not populate {db:?}:\n{e}"))
}

/// The rows `a` and `b` do not share: `{"differences": {table: {"columns", "only_a",
/// "only_b", "count_a", "count_b"} | {"missing": "a"|"b"} | {"columns": [a, b]}}, "tables":
/// {table: rows in a}}`, rows compared as multisets of cells (floats by repr, so NaN is NaN).
pub fn diff_rows(a: &TestDb, b: &TestDb) -> Value {
    request(json!({"op": "diff_rows", "a": a.sqlalchemy_url(), "b": b.sqlalchemy_url()}))
        .unwrap_or_else(|e| panic!("the reference could not compare {a:?} with {b:?}:\n{e}"))
}

/// Revision ids from base to head, as Alembic walks them; the history must be one line.
pub fn chain(project: Project, scripts_dir: &Path) -> Vec<String> {
    let answer = request(json!({
        "op": "chain", "project": project.cli_name(), "scripts": scripts_dir,
    }))
    .unwrap_or_else(|e| {
        panic!(
            "the reference could not list the revisions of {}:\n{e}",
            scripts_dir.display()
        )
    });
    serde_json::from_value(answer).expect("a list of revision ids")
}

/// MLflow's tracking or auth chain, base to head (asked once per process).
pub fn mlflow_chain(project: Project) -> Vec<String> {
    static CHAINS: Mutex<BTreeMap<&'static str, Vec<String>>> = Mutex::new(BTreeMap::new());
    let mut chains = lock(&CHAINS);
    chains
        .entry(project.cli_name())
        .or_insert_with(|| chain(project, &project.scripts_dir()))
        .clone()
}

// ---------------------------------------------------------------------------------------------
// Reference databases at revisions

/// One database walked up a project's chain by the real tooling, copied at each revision
/// asked for. Going forward costs only the revisions in between; going back restarts from
/// the nearest copy below. Positions: 0 is `INITIAL`, i is `chain[i - 1]`.
pub struct ReferenceLadder {
    dialect: Dialect,
    project: Project,
    scripts: PathBuf,
    chain: Vec<String>,
    /// The database being walked, and its position.
    walker: Option<(TestDb, usize)>,
    snapshots: BTreeMap<usize, TestDb>,
    reflections: HashMap<usize, Value>,
}

impl ReferenceLadder {
    /// For any project whose history is one line (a fixture, or MLflow's scripts elsewhere).
    pub fn new(dialect: Dialect, project: Project, scripts_dir: &Path) -> ReferenceLadder {
        ReferenceLadder::on_chain(
            dialect,
            project,
            scripts_dir.to_path_buf(),
            chain(project, scripts_dir),
        )
    }

    /// For MLflow's tracking or auth project with the reference environment's scripts.
    pub fn mlflow(dialect: Dialect, project: Project) -> ReferenceLadder {
        ReferenceLadder::on_chain(
            dialect,
            project,
            project.scripts_dir(),
            mlflow_chain(project),
        )
    }

    fn on_chain(
        dialect: Dialect,
        project: Project,
        scripts: PathBuf,
        chain: Vec<String>,
    ) -> ReferenceLadder {
        ReferenceLadder {
            dialect,
            project,
            scripts,
            chain,
            walker: None,
            snapshots: BTreeMap::new(),
            reflections: HashMap::new(),
        }
    }

    /// Revision ids, base to head.
    pub fn chain(&self) -> &[String] {
        &self.chain
    }

    /// The revision before `rev` on the chain (`INITIAL` before the first).
    pub fn parent(&self, rev: &str) -> String {
        match self.position(rev) {
            0 => panic!("{INITIAL} has no parent"),
            1 => INITIAL.to_string(),
            p => self.chain[p - 2].clone(),
        }
    }

    /// A new database (the caller's to change) holding the reference at `rev`
    /// (`INITIAL`, `head`/`heads`, a revision id or a unique prefix of one).
    pub fn at(&mut self, rev: &str) -> TestDb {
        let pos = self.position(rev);
        self.ensure(pos);
        self.snapshots[&pos].copy_to_new()
    }

    /// The reference's own copy at `rev`, handed over: cheaper than `at` when the ladder
    /// will not be asked for `rev` again (it would have to walk there anew).
    pub fn take(&mut self, rev: &str) -> TestDb {
        let pos = self.position(rev);
        self.ensure(pos);
        self.snapshots.remove(&pos).expect("ensured")
    }

    /// The reference database at `rev` itself: read it, do not change it.
    pub fn snapshot(&mut self, rev: &str) -> &TestDb {
        let pos = self.position(rev);
        self.ensure(pos);
        &self.snapshots[&pos]
    }

    /// The reflection of the reference at `rev` (computed once).
    pub fn reflection(&mut self, rev: &str) -> Value {
        let pos = self.position(rev);
        if let Some(done) = self.reflections.get(&pos) {
            return done.clone();
        }
        self.ensure(pos);
        // The walked database itself when it is there: the copies are the real thing's
        // copies, but the walker is the real thing.
        let db = match &self.walker {
            Some((walker, at)) if *at == pos => walker,
            _ => &self.snapshots[&pos],
        };
        let reflected = reflect(db, self.project.version_table());
        self.reflections.insert(pos, reflected.clone());
        reflected
    }

    /// Drop the copies below `rev` (they cost disk, and on a server a database each).
    pub fn forget_below(&mut self, rev: &str) {
        let pos = self.position(rev);
        self.snapshots = self.snapshots.split_off(&pos);
    }

    fn position(&self, rev: &str) -> usize {
        if rev == INITIAL {
            return 0;
        }
        if rev == "head" || rev == "heads" {
            return self.chain.len();
        }
        let matches: Vec<usize> = (0..self.chain.len())
            .filter(|&i| self.chain[i].starts_with(rev))
            .collect();
        match matches.as_slice() {
            [i] => i + 1,
            [] => panic!(
                "{rev} is not a revision of {:?} ({})",
                self.project,
                self.scripts.display()
            ),
            _ => panic!("{rev} names several revisions of {:?}", self.project),
        }
    }

    /// Make sure a copy at `pos` exists, walking forward from wherever is nearest below.
    fn ensure(&mut self, pos: usize) {
        if self.snapshots.contains_key(&pos) {
            return;
        }
        let walker_usable = matches!(&self.walker, Some((_, at)) if *at <= pos);
        if !walker_usable {
            self.walker = Some(match self.snapshots.range(..pos).next_back() {
                Some((&at, db)) => (db.copy_to_new(), at),
                None => {
                    let db = TestDb::new(self.dialect);
                    build_reference(&db, self.project, &self.scripts, INITIAL);
                    (db, 0)
                }
            });
        }
        let (walker, at) = self.walker.as_mut().expect("a walker");
        if *at < pos {
            let to = self.chain[pos - 1].clone();
            build_reference(walker, self.project, &self.scripts, &to);
            *at = pos;
        }
        let copy = walker.copy_to_new();
        self.snapshots.insert(pos, copy);
    }
}

/// One step of `for_each_revision`.
pub struct RevisionStep<'a> {
    pub dialect: Dialect,
    pub revision: &'a str,
    /// The revision before (`INITIAL` for the first).
    pub parent: &'a str,
    /// A copy of the reference at `parent`, the test's to upgrade.
    pub before: TestDb,
    /// The reference's reflection at `revision`.
    pub expected: &'a Value,
    /// The reference database at `revision` (for its rows): read it, do not change it.
    pub reference: &'a TestDb,
}

/// Visit every revision of MLflow's tracking or auth chain, base to head, on `dialect`: one
/// walk of the real tooling and one copy per revision; besides the walker, the ladder keeps
/// only the copy at the current revision (the previous one is handed to the test).
pub fn for_each_revision(
    dialect: Dialect,
    project: Project,
    mut visit: impl FnMut(RevisionStep<'_>),
) {
    let mut ladder = ReferenceLadder::mlflow(dialect, project);
    let chain = ladder.chain.clone();
    let mut parent = INITIAL.to_string();
    for revision in &chain {
        let before = ladder.take(&parent);
        let expected = ladder.reflection(revision);
        let reference = ladder.snapshot(revision);
        visit(RevisionStep {
            dialect,
            revision,
            parent: &parent,
            before,
            expected: &expected,
            reference,
        });
        parent = revision.clone();
    }
}

/// The reference's reflection at `INITIAL`, then at every revision of MLflow's tracking or
/// auth chain, base to head, from one walk and no copies at all: for a test that walks its
/// own database up in step and stops at the first difference (a copy costs more than a
/// revision's upgrade on every server, so this is the cheap way through the whole chain).
pub fn walk_reflections(dialect: Dialect, project: Project, mut visit: impl FnMut(&str, &Value)) {
    let scripts = project.scripts_dir();
    let walker = TestDb::new(dialect);
    for revision in std::iter::once(INITIAL.to_string()).chain(mlflow_chain(project)) {
        build_reference(&walker, project, &scripts, &revision);
        visit(&revision, &reflect(&walker, project.version_table()));
    }
}

type SharedLadder = Arc<Mutex<ReferenceLadder>>;

fn shared_ladder(dialect: Dialect, project: Project) -> SharedLadder {
    static LADDERS: OnceLock<Mutex<HashMap<(Dialect, Project), SharedLadder>>> = OnceLock::new();
    // Statics are never dropped, so the ladders' databases would outlive the test run: drop
    // them from the C library's exit handlers (the test harness ends with `exit`).
    extern "C" fn drop_ladders() {
        if let Some(Ok(mut ladders)) = LADDERS.get().map(Mutex::try_lock) {
            ladders.clear();
        }
    }
    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
    }
    let ladders = LADDERS.get_or_init(|| {
        // SAFETY: registers a function without captured state, run once at exit.
        unsafe {
            atexit(drop_ladders);
        }
        Mutex::new(HashMap::new())
    });
    lock(ladders)
        .entry((dialect, project))
        .or_insert_with(|| Arc::new(Mutex::new(ReferenceLadder::mlflow(dialect, project))))
        .clone()
}

/// A new database holding the reference for MLflow's tracking or auth project at `rev`,
/// from a ladder shared by the whole test process (dropped when it exits).
pub fn reference_at(dialect: Dialect, project: Project, rev: &str) -> TestDb {
    let ladder = shared_ladder(dialect, project);
    let mut ladder = lock(&ladder);
    ladder.at(rev)
}

/// The reflection of the shared reference at `rev`.
pub fn reference_reflection(dialect: Dialect, project: Project, rev: &str) -> Value {
    let ladder = shared_ladder(dialect, project);
    let mut ladder = lock(&ladder);
    ladder.reflection(rev)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock leaves valid data behind: go on.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------------
// The reference.py servers

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    log: PathBuf,
}

static IDLE: Mutex<Vec<Server>> = Mutex::new(Vec::new());

/// Put one request to an idle server (starting one if all are busy); Err carries the
/// reference's message or traceback.
fn request(request: Value) -> Result<Value, String> {
    let popped = lock(&IDLE).pop();
    let mut server = popped.unwrap_or_else(spawn_server);
    let line = format!("{request}\n");
    let answered = server
        .stdin
        .write_all(line.as_bytes())
        .and_then(|()| server.stdin.flush())
        .and_then(|()| {
            let mut reply = String::new();
            server.stdout.read_line(&mut reply).map(|_| reply)
        });
    let reply = match answered {
        Ok(reply) if !reply.trim().is_empty() => reply,
        other => {
            let _ = server.child.kill();
            let _ = server.child.wait();
            let log = fs::read_to_string(&server.log).unwrap_or_default();
            panic!(
                "the reference server stopped answering ({:?}); its log {}:\n{}",
                other.err(),
                server.log.display(),
                super::tail(&log, 4000)
            );
        }
    };
    lock(&IDLE).push(server);
    let mut reply: Value = serde_json::from_str(&reply).unwrap_or_else(|e| {
        panic!("the reference server answered something that is not JSON ({e}): {reply}")
    });
    match reply.get_mut("ok") {
        Some(ok) => Ok(ok.take()),
        None => Err(reply["error"]
            .as_str()
            .unwrap_or("(no message)")
            .to_string()),
    }
}

fn spawn_server() -> Server {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SPAWNED: AtomicUsize = AtomicUsize::new(0);
    let logs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reference-logs");
    fs::create_dir_all(&logs).unwrap_or_else(|e| panic!("cannot create {}: {e}", logs.display()));
    let n = SPAWNED.fetch_add(1, Ordering::Relaxed);
    if n == 0 {
        prune_logs(&logs);
    }
    let log = logs.join(format!("{}.{n}.log", std::process::id()));
    let log_file =
        fs::File::create(&log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
    let script = super::repo_root().join("tests/support/reference.py");
    let mut child = reference_command(&super::ref_python())
        .arg(&script)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    Server {
        child,
        stdin,
        stdout,
        log,
    }
}

/// A command running one of the reference environment's programs, with the environment
/// every reference run gets: stable hashing, no bytecode in fixture folders, no telemetry.
pub fn reference_command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .env("DO_NOT_TRACK", "true");
    cmd
}

/// Remove the logs of test processes that are gone (`<pid>.<n>.log`).
fn prune_logs(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.split('.').next().unwrap_or("");
        if !pid.is_empty()
            && !Path::new(&format!("/proc/{pid}")).exists()
            && Path::new("/proc/self").exists()
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}
