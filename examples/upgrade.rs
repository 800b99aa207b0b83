//! Upgrade a database from a program, with progress: the library's blocking facade.
//! `cargo run --example upgrade -- sqlite:///mlflow.db [--scripts DIR]`

use alembic_engine::db::DbUrl;
use alembic_engine::exec::{blocking, Event, Options};
use alembic_engine::graph::RevisionGraph;
use alembic_engine::project::Locator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: upgrade URL [--scripts DIR]")?;
    let scripts = match (args.next().as_deref(), args.next()) {
        (Some("--scripts"), Some(dir)) => Some(dir.into()),
        _ => None,
    };
    let project = Locator {
        scripts,
        ..Default::default()
    }
    .open(Some("mlflow"))?;
    let graph = RevisionGraph::build(project.scripts.revisions.clone())?;
    let outcome = blocking::migrate(
        &DbUrl::parse(&url)?,
        &project,
        &graph,
        &Options::default(),
        &mut |event| {
            if let Event::Step {
                index,
                total,
                label,
                message,
                ..
            } = event
            {
                eprintln!("[{index}/{total}] {label}, {message}");
            }
        },
    )?;
    println!("{:?} -> {:?}", outcome.before, outcome.after);
    Ok(())
}
