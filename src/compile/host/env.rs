//! `alembic.context` as a project's `env.py` sees it, for reading what that file configures
//! without a database: `config` (answering every option with its default), `configure(**kw)`
//! (recorded), `begin_transaction()`, `run_migrations()`, `get_x_argument()` and
//! `get_tag_argument()`, in offline mode; and `script`, whose `version_locations` it may set.

use std::cell::RefCell;
use std::rc::Rc;

use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};

use super::callables::NullContext;

/// What `env.py` passed to `context.configure`, if it got that far, and what it did to
/// `context.script`.
#[derive(Debug)]
pub struct EnvRecord {
    pub configured: Option<Vec<(String, Value)>>,
    /// `context.script.dir`.
    pub script_dir: String,
    /// `context.script.version_locations`: what the ini configured (`None` when nothing),
    /// then whatever `env.py` assigned.
    pub version_locations: Value,
    /// Whether `env.py` assigned `context.script.version_locations`.
    pub locations_set: bool,
}

impl Default for EnvRecord {
    fn default() -> Self {
        EnvRecord {
            configured: None,
            script_dir: String::new(),
            version_locations: Value::None,
            locations_set: false,
        }
    }
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
    let script = Value::native(EnvScript(record.clone()));
    let record = record.clone();
    vec![
        ("config".to_string(), Value::native(EnvConfig)),
        ("script".to_string(), script),
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

/// `context.script`, the `ScriptDirectory`: its folder, and its version locations to read or
/// replace.
#[derive(Debug)]
struct EnvScript(SharedEnv);

impl Native for EnvScript {
    fn type_name(&self) -> &str {
        "alembic.script.ScriptDirectory"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let record = self.0.borrow();
        match name {
            "dir" => Ok(Value::str(&record.script_dir)),
            "version_locations" => Ok(record.version_locations.clone()),
            // Projects drop Alembic's memoized `_version_locations` through it; a fresh dict
            // answers `pop(key, default)` with the default.
            "__dict__" => Ok(Value::dict_of_str(Vec::new())),
            _ => Err(ctx.native_unsupported(self.type_name(), format!("`{name}`"))),
        }
    }

    fn setattr(&self, name: &str, value: Value, ctx: &mut Ctx) -> Result<()> {
        match name {
            "version_locations" => {
                let mut record = self.0.borrow_mut();
                record.version_locations = value;
                record.locations_set = true;
                Ok(())
            }
            _ => Err(ctx.native_unsupported(self.type_name(), format!("setting `{name}`"))),
        }
    }
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
