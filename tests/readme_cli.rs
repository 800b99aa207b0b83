//! The README's command table, option lists and exit codes say what `--help` says.

mod support;

use std::collections::BTreeSet;

fn help(words: &[&str]) -> String {
    let out = support::mlflow_migrate()
        .args(words)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{words:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The long options a help text lists (`--help` and `--version` left out).
fn help_options(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| {
            l.split([' ', ','])
                .find(|w| w.starts_with("--"))
                .map(str::to_string)
        })
        .filter(|o| o != "--help" && o != "--version")
        .collect()
}

/// The commands a help text lists (`help` left out).
fn help_commands(text: &str) -> BTreeSet<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// `--flags` in a piece of README text.
fn flags(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect()
}

fn paragraph_starting(text: &str, start: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no paragraph starting {start:?}"));
    let rest = &text[from..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_readme_command_table_options_and_exit_codes_match_help() {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let section = {
        let from = readme.find("\n## Commands\n").expect("a Commands section");
        let rest = &readme[from + 1..];
        let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
        &rest[..end]
    };
    let top = help(&[]);
    let globals = help_options(&top);
    assert_eq!(
        flags(&paragraph_starting(section, "Global options")),
        globals,
        "the README's global options"
    );
    // One row per command: its words, and the options the row names.
    let mut rows: Vec<(Vec<String>, String)> = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let usage = cells[0].trim_start_matches("| `");
        let usage = &usage[..usage.find('`').unwrap()];
        let words: Vec<String> = usage
            .split_whitespace()
            .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .map(str::to_string)
            .collect();
        rows.push((words, cells[1].to_string()));
    }
    let listed: BTreeSet<String> = rows.iter().map(|(w, _)| w[0].clone()).collect();
    assert_eq!(listed, help_commands(&top), "the README's commands");
    for (words, cell) in &rows {
        let cell = match cell.split_once("the same as `") {
            Some((_, other)) => {
                let other = &other[..other.find('`').unwrap()];
                rows.iter()
                    .find(|(w, _)| w[0] == other)
                    .map(|(_, c)| c.clone())
                    .unwrap()
            }
            None => cell.clone(),
        };
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let text = help(&args);
        let own: BTreeSet<String> = help_options(&text).difference(&globals).cloned().collect();
        assert_eq!(flags(&cell), own, "the options of `{}`", words.join(" "));
        if words.len() == 1 && !help_commands(&text).is_empty() {
            // A command with subcommands: each has a row.
            for sub in help_commands(&text) {
                assert!(
                    rows.iter()
                        .any(|(w, _)| w.len() == 2 && w[0] == words[0] && w[1] == sub),
                    "no README row for `{} {sub}`",
                    words[0]
                );
            }
        }
    }
    assert_eq!(
        paragraph_starting(section, "Exit codes:"),
        paragraph_starting(&top, "Exit codes:"),
        "the README's exit codes"
    );
}
