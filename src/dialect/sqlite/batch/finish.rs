//! The end of a rebuild: the columns in Alembic's order, constraints kept or renamed, named
//! by the batch's naming convention where reflection gave none, and the statements of the
//! move and copy.

use super::*;

impl Rebuild {
    /// Order columns by the partial order Alembic builds (layered, stable by current order).
    fn ordered_entries(&mut self) {
        if self.partial_reordering.is_empty() && self.add_col_ordering.is_empty() {
            return;
        }
        let keys: Vec<String> = self.entries.iter().map(|e| e.key.clone()).collect();
        let mut pairs: Vec<(String, String)> = Vec::new();
        if self.partial_reordering.is_empty() {
            // As Alembic pairs them: the column before position i in the current order with
            // the existing column at position i.
            for (i, elem) in self.existing_ordering.iter().enumerate().skip(1) {
                if let Some(prev) = keys.get(i - 1) {
                    pairs.push((prev.clone(), elem.clone()));
                }
            }
        } else {
            for group in &self.partial_reordering {
                for w in group.windows(2) {
                    pairs.push((w[0].clone(), w[1].clone()));
                }
            }
        }
        pairs.extend(self.add_col_ordering.iter().cloned());
        pairs.retain(|(a, b)| a != b);
        let mut todo: Vec<String> = keys.clone();
        let mut sorted = Vec::new();
        while !todo.is_empty() {
            let ready: Vec<String> = todo
                .iter()
                .filter(|n| {
                    !pairs
                        .iter()
                        .any(|(p, c)| c == *n && todo.contains(p) && p != *n)
                })
                .cloned()
                .collect();
            if ready.is_empty() {
                // A cycle in the requested order: keep the current order for the rest.
                sorted.append(&mut todo);
                break;
            }
            todo.retain(|n| !ready.contains(n));
            sorted.extend(ready);
        }
        let mut entries = std::mem::take(&mut self.entries);
        for key in sorted {
            if let Some(pos) = entries.iter().position(|e| e.key == key) {
                self.entries.push(entries.remove(pos));
            }
        }
        self.entries.append(&mut entries);
    }

    /// The rebuilt table and the statements that move the rows into it: create it under a
    /// temporary name, copy, drop the old table, rename, re-create the indexes.
    pub(super) fn finish(mut self, existing: &Table) -> Result<(Table, Vec<String>), RenderError> {
        self.ordered_entries();
        let constraints = self.kept_constraints();
        let columns = self.final_columns(&constraints);
        let indexes = self.kept_indexes(&columns)?;
        let new_table = Table {
            name: self.table.clone(),
            columns,
            constraints,
            indexes,
            comment: existing.comment.clone(),
        };
        let statements = self.move_and_copy(&new_table)?;
        Ok((new_table, statements))
    }

    /// The column's name in the new table, by its key; `None` when the batch removes it.
    fn new_name(&self, key: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.column.name.clone())
    }

    /// The new names of `cols`; `None` when the batch removes any of them.
    fn renamed(&self, cols: &[String]) -> Option<Vec<String>> {
        cols.iter().map(|c| self.new_name(c)).collect()
    }

    /// The constraints of the new table: `table_args`, then the named and unnamed constraints
    /// whose columns all survive (renamed), with one primary key, first.
    fn kept_constraints(&self) -> Vec<Constraint> {
        let keys: Vec<String> = self.entries.iter().map(|e| e.key.clone()).collect();
        let mut constraints: Vec<Constraint> = self.table_args.clone();
        let all: Vec<Constraint> = self
            .named
            .iter()
            .map(|(_, c)| c.clone())
            .chain(self.unnamed.iter().cloned())
            .collect();
        for c in all {
            if !c.columns().iter().all(|col| keys.contains(col)) {
                continue;
            }
            let kept = match c {
                Constraint::PrimaryKey { name, columns } => {
                    if columns.is_empty() {
                        continue;
                    }
                    Constraint::PrimaryKey {
                        name,
                        columns: self.renamed(&columns).unwrap_or_default(),
                    }
                }
                Constraint::Unique { name, columns } => Constraint::Unique {
                    name,
                    columns: self.renamed(&columns).unwrap_or_default(),
                },
                Constraint::ForeignKey(fk) => Constraint::ForeignKey(ForeignKey {
                    columns: self.renamed(&fk.columns).unwrap_or_default(),
                    ..fk
                }),
                check @ Constraint::Check { .. } => check,
            };
            constraints.push(kept);
        }
        // One primary key: the last one added wins, as when SQLAlchemy appends a second.
        if let Some(last_pk) = constraints
            .iter()
            .rposition(|c| c.kind() == ConstraintKind::PrimaryKey)
        {
            let pk = constraints.remove(last_pk);
            constraints.retain(|c| c.kind() != ConstraintKind::PrimaryKey);
            constraints.insert(0, pk);
        }
        constraints
    }

    /// The columns of the new table in order, primary key columns (by `constraints`) marked
    /// and NOT NULL.
    fn final_columns(&self, constraints: &[Constraint]) -> Vec<Column> {
        let pk_cols: Vec<String> = constraints
            .iter()
            .find(|c| c.kind() == ConstraintKind::PrimaryKey)
            .map(|c| c.columns().to_vec())
            .unwrap_or_default();
        self.entries
            .iter()
            .map(|e| {
                let mut c = e.column.clone();
                c.primary_key = pk_cols.contains(&c.name);
                if c.primary_key {
                    c.nullable = false;
                }
                c
            })
            .collect()
    }

    /// The indexes of the new table, old and new, their columns renamed; an error when one
    /// refers to a column the batch removes.
    fn kept_indexes(&self, columns: &[Column]) -> Result<Vec<Index>, RenderError> {
        let mut indexes = Vec::new();
        for idx in self.indexes.iter().chain(self.new_indexes.iter()) {
            let mut idx = idx.clone();
            for part in &mut idx.parts {
                if let IndexPart::Column(c) = part {
                    match self.new_name(c) {
                        Some(n) => *c = n,
                        None if columns.iter().any(|col| col.name == *c) => {}
                        None => {
                            return Err(unsupported(format!(
                                "index '{}' refers to column '{}', which the batch on '{}' removes; drop the index first",
                                idx.name, c, self.table
                            )))
                        }
                    }
                }
            }
            idx.table = self.table.clone();
            indexes.push(idx);
        }
        Ok(indexes)
    }

    /// The statements of the move and copy into `new_table`.
    fn move_and_copy(&self, new_table: &Table) -> Result<Vec<String>, RenderError> {
        let tmp = temp_name(&self.table);
        let mut statements = vec![create_table_sql(new_table, &tmp, self.sqlalchemy)?];
        let copied: Vec<&Entry> = self.entries.iter().filter(|e| e.source.is_some()).collect();
        if !copied.is_empty() {
            statements.push(format!(
                "INSERT INTO {} ({}) SELECT {} \nFROM {}",
                quote(&tmp),
                copied
                    .iter()
                    .map(|e| quote(&e.column.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                copied
                    .iter()
                    .map(|e| e.source.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", "),
                quote(&self.table)
            ));
        }
        statements.push(format!("DROP TABLE {}", quote(&self.table)));
        statements.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            quote(&tmp),
            quote(&self.table)
        ));
        for idx in &new_table.indexes {
            statements.push(create_index_sql(idx, &self.table));
        }
        Ok(statements)
    }
}

/// Names from a batch's `naming_convention` for reflected constraints that have none.
pub(super) fn apply_naming_convention(
    table: &str,
    convention: &[(String, String)],
    named: &mut Vec<(String, Constraint)>,
    unnamed: &mut Vec<Constraint>,
) {
    if convention.is_empty() {
        return;
    }
    let mut still_unnamed = Vec::new();
    for mut c in std::mem::take(unnamed) {
        use crate::schema::naming;
        let template = naming::template(convention, naming::key(c.kind()));
        match template.and_then(|t| naming::constraint_name(t, table, &c)) {
            Some(name) => {
                c.set_name(Some(name.clone()));
                named.push((name, c));
            }
            None => still_unnamed.push(c),
        }
    }
    *unnamed = still_unnamed;
}
