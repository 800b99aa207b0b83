//! `alembic.context` as a project's `env.py` sees it, for reading what that file configures
//! without a database: `config` (answering every option with its default), `configure(**kw)`
//! (recorded), `begin_transaction()`, `run_migrations()`, `get_x_argument()` and
//! `get_tag_argument()`, in offline mode.

use std::cell::RefCell;
use std::rc::Rc;

use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};

use super::callables::NullContext;

/// What `env.py` passed to `context.configure`, if it got that far.
#[derive(Debug, Default)]
pub struct EnvRecord {
    pub configured: Option<Vec<(String, Value)>>,
}

pub type SharedEnv = Rc<RefCell<EnvRecord>>;

/// A member answering from its arguments alone.
type Answer = fn(&[Value], &[(String, Value)]) -> Value;

/// The members `alembic.context` has in `env.py` beyond a revision's.
pub(super) fn env_members(record: &SharedEnv) -> Vec<(String, Value)> {
    let fixed = |name: &'static str, value: Answer| {
        (
            name.to_string(),
            Value::native(NativeFunction::new(
                format!("alembic.context.{name}"),
                move |args, kwargs, _| Ok(value(&args, &kwargs)),
            )),
        )
    };
    let record = record.clone();
    vec![
        ("config".to_string(), Value::native(EnvConfig)),
        (
            "configure".to_string(),
            Value::native(NativeFunction::new(
                "alembic.context.configure",
                move |args, kwargs, ctx| {
                    if !args.is_empty() {
                        return Err(ctx.type_error("configure() takes keyword arguments only"));
                    }
                    record.borrow_mut().configured = Some(kwargs);
                    Ok(Value::None)
                },
            )),
        ),
        fixed("begin_transaction", |_, _| {
            Value::native(NullContext(Value::None))
        }),
        fixed("run_migrations", |_, _| Value::None),
        fixed("get_tag_argument", |_, _| Value::None),
        fixed("get_x_argument", |args, kwargs| {
            let as_dictionary = args
                .first()
                .or(kwargs
                    .iter()
                    .find(|(k, _)| k == "as_dictionary")
                    .map(|(_, v)| v))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match as_dictionary {
                true => Value::dict_of_str(Vec::new()),
                false => Value::list(Vec::new()),
            }
        }),
    ]
}

/// `context.config` of a run given no options: every option answers its default, no ini file.
#[derive(Debug)]
struct EnvConfig;

impl Native for EnvConfig {
    fn type_name(&self) -> &str {
        "alembic.config.Config"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "config_file_name" | "cmd_opts" => Ok(Value::None),
            "config_ini_section" => Ok(Value::str("alembic")),
            "attributes" => Ok(Value::dict_of_str(Vec::new())),
            "get_main_option" | "get_alembic_option" | "get_section" => Ok(default_answer(name, 1)),
            "get_section_option" => Ok(default_answer(name, 2)),
            "set_main_option" | "set_section_option" => Ok(Value::native(NativeFunction::new(
                format!("Config.{name}"),
                |_, _, _| Ok(Value::None),
            ))),
            _ => Err(ctx.native_unsupported("alembic.config.Config", format!("`{name}`"))),
        }
    }
}

/// A getter whose `default` is its argument at `position` (or keyword `default`), `None`
/// without one.
fn default_answer(name: &str, position: usize) -> Value {
    Value::native(NativeFunction::new(
        format!("Config.{name}"),
        move |args, kwargs, ctx| {
            let mut a = Args::new("Config option", args, kwargs);
            let _ = a.take(0, "name");
            if position == 2 {
                let _ = a.take(1, "option");
            }
            let default = a.take(position, "default").unwrap_or(Value::None);
            a.finish(ctx)?;
            Ok(default)
        },
    ))
}
