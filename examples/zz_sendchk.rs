fn assert_send<T: Send>(_: &T) {}
#[allow(dead_code)]
fn check(
    url: &alembic_engine::db::DbUrl,
    project: &alembic_engine::project::Project,
    graph: &alembic_engine::graph::RevisionGraph,
    options: &alembic_engine::exec::Options,
) {
    let mut progress = |_e: alembic_engine::exec::Event| {};
    let fut = alembic_engine::exec::migrate(url, project, graph, options, &mut progress);
    assert_send(&fut);
}
fn main() {}
