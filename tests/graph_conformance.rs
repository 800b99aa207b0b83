//! Revision-graph conformance: on each fixture project in `revisions/fixtures/`, the heads,
//! branch points, history ranges, revision specs and upgrade/downgrade paths reported by
//! `mlflow-migrate` must equal what Python Alembic computes, lists in the same order.
//!
//! No expected value is written here. Each fixture's table of queries is put to the pinned
//! Alembic once (`tests/support/alembic_reference.py`), then to our binary one query at a time.
//! Where Alembic raises, we must exit non-zero with a message; the wording may differ.
//!
//! Queries whose Alembic answer depends on Python's hash order are left out of the tables: a
//! conformance case must have one right answer.

mod support;

use serde_json::{json, Value};
use std::path::Path;

#[derive(Debug, Clone, Copy)]
enum Query {
    /// `heads`: versioned heads, in Alembic's order.
    Heads,
    /// `branches`: branch points in history order, each with its sorted children.
    Branches,
    /// `history [-r RANGE]`.
    History(Option<&'static str>),
    /// `show SPEC`: every revision the spec resolves to, with its facts.
    Show(&'static str),
    /// `path FROM TO --direction up`; FROM is `base` or comma-separated specs.
    Up(&'static str, &'static str),
    /// `path FROM TO --direction down`.
    Down(&'static str, &'static str),
}
use Query::*;

/// The facts `show` must agree on; our `path` field has no Alembic counterpart.
const REVISION_FACTS: &[&str] = &[
    "revision",
    "down_revisions",
    "depends_on",
    "branch_labels",
    "is_head",
    "is_branch_point",
    "is_merge_point",
    "doc",
];

/// fe2b ─ 4341 ┬ d53b ─ e417 ┬ 7fe7 (merge) ─ 1018 ┬ 25b1
///             └ 31ef ───────┘                     └ 7611
#[test]
fn branches_merges_matches_alembic() {
    check_fixture(
        "branches_merges",
        &[
            Heads,
            Branches,
            History(None),
            History(Some("base:heads")),
            History(Some("d53bbf16b412:heads")),
            History(Some("31ef:")),
            History(Some(":e417")),
            History(Some("43410e78c665:7fe731f00d69")),
            History(Some("25b1@head:")),
            Show("head"), // two heads: an error
            Show("heads"),
            Show("base"),
            Show("7fe7"),
            Show("e417"), // two-line first paragraph in its docstring
            Show("76118253df59"),
            Show("25b1@head"),
            Show("d53b@head"), // reaches both heads
            Show("-1"),        // one step below each head: the same revision twice
            Show("fe2b+1"),
            Show("e417-1"),
            Up("base", "heads"),
            Up("base", "7fe7"),
            Up("base", "e417"),
            Up("base", "+2"),
            Up("base", "+3"), // branch point in the way
            Up("4341", "+1"),
            Up("d53b", "7fe7"),
            Up("d53b", "+1"),
            Up("d53b", "+2"), // pulls in the other branch to reach the merge
            Up("e417,31ef", "heads"),
            Up("e417,31ef", "7fe7"),
            Up("e417,31ef", "+1"),
            Up("7fe7", "+1"),
            Up("7fe7", "+2"),
            Up("25b1", "heads"),
            Up("heads", "heads"),
            Up("4341", "head"),
            Down("heads", "base"),
            Down("heads", "7fe7"),
            Down("heads", "d53b"),
            Down("heads", "-1"),
            Down("heads", "-2"),
            Down("7fe7", "-1"), // a merge has two parents
            Down("7fe7", "31ef"),
            Down("7fe7", "4341"),
            Down("e417,31ef", "-1"),
            Down("e417,31ef", "4341"),
            Down("e417,31ef", "base"),
            Down("25b1", "d53b"),
            Down("25b12d513407,76118253df59", "base"),
        ],
    );
}

/// core:    a261 (label core) ─ a70e ─ 8185 ─ c33b (depends_on bdbd)
/// billing: bdbd (label billing, depends_on "core") ─ 2149 (depends_on 8185) ─ 3599
#[test]
fn depends_on_cross_branch_matches_alembic() {
    check_fixture(
        "depends_on_cross_branch",
        &[
            Heads,
            Branches, // dependencies do not make branch points
            History(None),
            History(Some("base:billing@head")),
            History(Some("core@base:core@head")),
            History(Some("bdbd318bb115:heads")),
            History(Some("2149:")),
            History(Some(":c33b")),
            Show("head"),
            Show("heads"),
            Show("base"),
            Show("core"), // a bare label is the revision that declares it
            Show("billing"),
            Show("core@head"),
            Show("billing@head"),
            Show("billing@base"),
            Show("billing@-1"),
            Show("billing@+1"),
            Show("bdbd"),
            Show("2149"),
            Show("c33b"),
            Show("8185@head"),
            Up("base", "heads"),
            Up("base", "core@head"), // needs billing's root first
            Up("base", "billing@head"),
            Up("base", "214936be1f10"),
            Up("base", "+1"),
            Up("base", "billing@+1"),
            Up("a70e", "+1"),
            Up("8185", "+1"),
            Up("a70e", "c33b"),
            Up("a70e", "billing@head"),
            Up("8185,bdbd", "heads"),
            Up("8185,bdbd", "+1"),
            Up("heads", "heads"),
            Down("heads", "base"),
            Down("heads", "core@base"),
            Down("heads", "billing@base"),
            Down("heads", "a70e"), // takes 2149 down too: it depends on 8185
            Down("heads", "8185"),
            Down("heads", "bdbd"),
            Down("heads", "-1"),
            Down("heads", "core@-1"),
            Down("8185,bdbd", "base"),
            Down("8185,bdbd", "-1"),
            Down("c33b", "a261"),
        ],
    );
}

/// 7444 ─ 3e46 ┬ 963e ─ efb4 (label reports, reaches 963e too)
///             └ 23cc (labels alerts, notifications) ─ e61f ─ d5b6
#[test]
fn branch_labels_matches_alembic() {
    check_fixture(
        "branch_labels",
        &[
            Heads,
            Branches,
            History(None),
            History(Some("base:reports@head")),
            History(Some("alerts@base:")),
            History(Some(":alerts@head")),
            History(Some("963e:heads")),
            History(Some("3e466b185b1c:efb4")),
            Show("head"),
            Show("heads"),
            Show("base"),
            Show("3e46"), // below the branch point: no labels
            Show("963e"),
            Show("reports"),
            Show("alerts"),
            Show("repo"), // a prefix of a label
            Show("reports@head"),
            Show("alerts@head"),
            Show("notifications@head"),
            Show("reports@base"),
            Show("963e@head"),
            Show("3e46@head"),
            Show("reports@-1"),
            Show("alerts@-2"),
            Show("alerts@+1"),
            Show("-2"),
            Show("alerts@7444"),
            Show("reports@e61f"), // not on that branch
            Up("base", "heads"),
            Up("base", "reports@head"),
            Up("base", "alerts@head"),
            Up("base", "+2"),
            Up("base", "+3"),
            Up("base", "alerts@+1"),
            Up("3e46", "reports@+1"),
            Up("3e46", "alerts@+2"),
            Up("3e46", "+1"),
            Up("963e", "+1"),
            Up("963e", "d5b6"),
            Up("963e,e61f", "heads"),
            Up("963e,e61f", "alerts@+1"),
            Up("963e,e61f", "+1"),
            Up("d5b6", "reports@head"),
            Up("7444", "head"),
            Down("heads", "base"),
            Down("heads", "reports@base"),
            Down("heads", "alerts@base"),
            Down("heads", "-1"),
            Down("heads", "alerts@-1"),
            Down("heads", "3e46"),
            Down("efb481665251,d5b60cb62ee3", "reports@-1"),
            Down("963e,e61f", "-1"),
            Down("963e,e61f", "base"),
            Down("e61f", "-3"),
            Down("e61f", "963e"), // not an ancestor
        ],
    );
}

/// dd87 ─ e8f3 ─ f7a0   and   cd8d ─ 3f4d, spread over model_versions/ and plugin_versions/;
/// plugin_versions/ also holds `__init__.py`, a README and an archive/ subfolder (not scanned).
#[test]
fn two_bases_two_folders_matches_alembic() {
    check_fixture(
        "two_bases_two_folders",
        &[
            Heads,
            Branches,
            History(None),
            History(Some("base:heads")),
            History(Some("dd87ed70ebb3:heads")),
            History(Some("cd8d:")),
            History(Some(":f7a0")),
            History(Some("e8f3:f7a0")),
            Show("head"),
            Show("heads"),
            Show("base"),
            Show("dd87"),
            Show("3f4d"),
            Show("d635"), // lives in archive/, so unknown
            Show("cd8d@head"),
            Show("dd87@base"),
            Show("-1"),
            Show("f7a0+1"),
            Up("base", "heads"),
            Up("base", "head"),
            Up("base", "+1"),
            Up("base", "f7a0"),
            Up("base", "cd8d@head"),
            Up("dd87", "+2"),
            Up("dd87", "heads"),
            Up("e8f3", "3f4d"),
            Up("dd87,cd8d", "heads"),
            Up("dd87,cd8d", "+1"),
            Down("heads", "base"),
            Down("heads", "-1"),
            Down("heads", "dd87"),
            Down("heads", "cd8d@base"),
            Down("heads", "f7a0@base"),
            Down("f7a0,cd8d", "-1"),
            Down("f7a0,cd8d", "base"),
            Down("e8f3", "-2"),
            Down("e8f3", "-3"),
            Down("f7a0", "3f4d"),
        ],
    );
}

/// abcd1234ef56 (label widgets) ─ abcd5678a9b0 ─ abce90f1c2d3 ─ ab01f2e3d4c5 (no docstring)
#[test]
fn ambiguous_prefixes_matches_alembic() {
    check_fixture(
        "ambiguous_prefixes",
        &[
            Heads,
            Branches,
            History(None),
            History(Some("abcd5:heads")),
            History(Some("abcd:")),
            History(Some("abce:")),
            History(Some(":ab01")),
            History(Some("abcd1:abce")),
            History(Some("widgets@base:widgets@head")),
            History(Some("abcd5")), // a range needs a colon
            Show("head"),
            Show("heads"),
            Show("base"),
            Show("a"),
            Show("abc"),
            Show("abcd"),
            Show("abcd5"),
            Show("abcd1234"),
            Show("abcd1234ef56"),
            Show("abcd12345"),
            Show("ABCD"),
            Show("abce"),
            Show("ab0"), // three characters are enough when unique
            Show("ab01"),
            Show("widg"), // prefixes match branch labels too
            Show("widgets"),
            Show("widgets@head"),
            Show("widgets@base"),
            Show("widgets@-1"),
            Show("widgets@abce"),
            Show("abce@head"),
            Show("-1"),
            Up("base", "heads"),
            Up("base", "+1"),
            Up("base", "+2"),
            Up("base", "abcd"),
            Up("base", "abcd5"),
            Up("base", "widgets@+2"),
            Up("abcd5", "+1"),
            Up("abcd5", "head"),
            Up("abcd5", "widgets@head"),
            Up("abcd1", "abce"),
            Up("ab01", "abcd1"), // target below the current revision
            Down("heads", "base"),
            Down("heads", "widgets@base"),
            Down("heads", "-1"),
            Down("heads", "-2"),
            Down("heads", "abcd"),
            Down("heads", "abcd1"),
            Down("heads", "widgets@-1"),
            Down("abce", "base"),
            Down("ab01", "ab0"),
        ],
    );
}

/// Ask Alembic every query once, then our binary each query, and report all disagreements.
fn check_fixture(name: &str, queries: &[Query]) {
    let project = support::fixture(name);
    let reference: Vec<Value> = queries.iter().map(|q| reference_query(*q)).collect();
    let expected = support::alembic_reference(&project.join("alembic.ini"), &reference);

    let mut failures = Vec::new();
    for (query, alembic) in queries.iter().zip(&expected) {
        let ours = our_answer(&project, *query);
        let agrees = match (alembic.get("error"), &ours) {
            (Some(_), Err(_)) => true,
            (None, Ok(answer)) => answer == alembic,
            _ => false,
        };
        if !agrees {
            let ours = match ours {
                Ok(answer) => answer.to_string(),
                Err(message) => format!("error: {message}"),
            };
            failures.push(format!(
                "  {query:?}\n    alembic: {alembic}\n    ours:    {ours}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {} queries disagree with Alembic\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n")
    );
}

fn reference_query(query: Query) -> Value {
    match query {
        Heads => json!({"kind": "heads"}),
        Branches => json!({"kind": "branches"}),
        History(range) => json!({"kind": "history", "range": range}),
        Show(spec) => json!({"kind": "revision", "spec": spec}),
        Up(from, to) => json!({"kind": "path", "from": from, "to": to, "direction": "up"}),
        Down(from, to) => json!({"kind": "path", "from": from, "to": to, "direction": "down"}),
    }
}

/// Run the binary for one query and reduce its JSON to the shape of the Alembic answer.
/// `Err` carries the message of a non-zero exit.
fn our_answer(project: &Path, query: Query) -> Result<Value, String> {
    // `--` keeps specs such as `-1` from being read as flags.
    let args: Vec<&str> = match query {
        Heads => vec!["heads"],
        Branches => vec!["branches"],
        History(None) => vec!["history"],
        History(Some(range)) => vec!["history", "-r", range],
        Show(spec) => vec!["show", "--", spec],
        Up(from, to) => vec!["path", "--direction", "up", "--", from, to],
        Down(from, to) => vec!["path", "--direction", "down", "--", from, to],
    };
    let out = support::mlflow_migrate()
        .arg("--scripts")
        .arg(project)
        .args(["--format", "json"])
        .args(&args)
        .output()
        .expect("run mlflow-migrate");
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(if message.is_empty() {
            format!("{} with nothing on stderr", out.status)
        } else {
            message
        });
    }
    let doc: Value = match serde_json::from_slice(&out.stdout) {
        Ok(doc) => doc,
        Err(e) => {
            return Ok(json!(format!(
                "unparseable output ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )))
        }
    };
    Ok(match query {
        Heads => revision_ids(&doc["heads"]),
        Branches => map_items(
            &doc["branch_points"],
            |point| json!({"revision": point["revision"], "children": point["children"]}),
        ),
        History(_) => revision_ids(&doc["history"]),
        Show(_) => map_items(&doc["revisions"], |rev| {
            REVISION_FACTS
                .iter()
                .map(|fact| (fact.to_string(), rev[*fact].clone()))
                .collect()
        }),
        Up(..) => path_steps(&doc, "up"),
        Down(..) => path_steps(&doc, "down"),
    })
}

fn map_items(list: &Value, f: impl Fn(&Value) -> Value) -> Value {
    match list.as_array() {
        Some(items) => items.iter().map(f).collect(),
        None => json!(format!("expected a list, got {list}")),
    }
}

fn revision_ids(list: &Value) -> Value {
    map_items(list, |rev| rev["revision"].clone())
}

/// Step ids in order; a step in the wrong direction shows as `"<id> (<direction>)"` so that it
/// cannot match.
fn path_steps(doc: &Value, direction: &str) -> Value {
    map_items(&doc["steps"], |step| {
        if step["direction"] == direction {
            step["revision"].clone()
        } else {
            json!(format!("{} ({})", step["revision"], step["direction"]))
        }
    })
}
