//! Compile every revision of a project for one dialect and report, step by step, what each
//! produced or why it failed: `cargo run --example compile_report -- <scripts> [mlflow|mlflow-auth] [sqlite]`.

use alembic_engine::compile::Compiler;
use alembic_engine::graph::{Lower, RevisionGraph};
use alembic_engine::project::Locator;
use alembic_engine::schema::SchemaModel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let scripts = args.get(1).map(std::path::PathBuf::from);
    let project_name = args.get(2).cloned().unwrap_or_else(|| "mlflow".into());
    let project = Locator {
        scripts,
        ..Default::default()
    }
    .open(Some(&project_name))?;
    let graph = RevisionGraph::build(project.scripts.revisions.clone())?;
    let compiler = Compiler::for_project(
        &project,
        project.dialect(alembic_engine::dialect::Database::Sqlite),
    )?;
    let mut model = SchemaModel::default();
    if let Some(path) = &project.initial_models {
        let (step, after) = compiler.compile_initial_models(path, model)?;
        println!("initial: {} statements", step.statements().count());
        model = after;
    }
    let mut failures = 0;
    for step in graph.upgrade_path(&Lower::None, "heads")? {
        let rev = graph.revision(step.revision);
        match compiler.compile_step(rev, step.direction, model.clone()) {
            Ok((compiled, after)) => {
                println!(
                    "ok   {} ({} statements)",
                    rev.id,
                    compiled.statements().count()
                );
                model = after;
            }
            Err(e) => {
                failures += 1;
                println!("FAIL {}: {e}", rev.id);
            }
        }
    }
    println!("{failures} failures");
    Ok(())
}
