//! Type values: a class (`sa.String`) is a [`TypeClass`], an instance a [`TypeObj`] holding its
//! `SqlType`; `with_variant`, `isinstance`, attributes and `repr` as SQLAlchemy has them.

use crate::interp::{Args, Ctx, Native, Result, Value};
use crate::ir::SqlType;

use super::args::sa_exception;
use super::types::{generic, TypeSpec, GENERIC};

/// A type class: callable, usable as a type, and as the second argument of `isinstance`.
#[derive(Debug)]
pub(crate) struct TypeClass(pub &'static TypeSpec);

/// A type instance.
#[derive(Debug)]
pub(crate) struct TypeObj {
    pub spec: &'static TypeSpec,
    pub ty: SqlType,
}

/// The class used to show and `isinstance`-test an `SqlType` that did not come from a script
/// (a reflected column's type).
pub(crate) fn spec_of(ty: &SqlType) -> &'static TypeSpec {
    let name = match ty {
        SqlType::Varchar { .. } => "VARCHAR",
        SqlType::Char { .. } => "CHAR",
        SqlType::NVarchar { .. } => "NVARCHAR",
        SqlType::Text { .. } => "TEXT",
        SqlType::Integer => "INTEGER",
        SqlType::BigInteger => "BIGINT",
        SqlType::SmallInteger => "SMALLINT",
        SqlType::Float { double: false, .. } => "FLOAT",
        SqlType::Float { double: true, .. } => "Double",
        SqlType::Numeric { .. } => "NUMERIC",
        SqlType::Boolean { .. } => "BOOLEAN",
        SqlType::DateTime { .. } => "DateTime",
        SqlType::Timestamp { .. } => "TIMESTAMP",
        SqlType::Date => "DATE",
        SqlType::Time { .. } => "TIME",
        SqlType::Interval => "Interval",
        SqlType::LargeBinary { .. } => "LargeBinary",
        SqlType::Json => "JSON",
        SqlType::Uuid => "Uuid",
        SqlType::Enum { .. } => "Enum",
        SqlType::Variant { base, .. } => return spec_of(base),
        SqlType::Named(name) => {
            // `DOUBLE PRECISION` is the class `DOUBLE_PRECISION`, `DECIMAL(10, 2)` is `DECIMAL`.
            let class = name
                .split('(')
                .next()
                .unwrap_or("")
                .trim()
                .replace(' ', "_");
            return generic(&class).unwrap_or(&GENERIC[0]);
        }
        SqlType::DialectSpecific { .. } | SqlType::Reflected(_) => "TypeEngine",
    };
    generic(name).unwrap_or(&GENERIC[0])
}

/// `repr()` of a type, in SQLAlchemy's style (`String(length=255)`).
fn type_repr(name: &str, ty: &SqlType) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut opt = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    };
    match ty {
        SqlType::Varchar { length, collation } => {
            opt("length", length.map(|l| l.to_string()));
            opt("collation", collation.as_ref().map(|c| format!("'{c}'")));
        }
        SqlType::Char { length }
        | SqlType::NVarchar { length }
        | SqlType::Text { length }
        | SqlType::LargeBinary { length } => opt("length", length.map(|l| l.to_string())),
        SqlType::Float { precision, .. } => opt("precision", precision.map(|p| p.to_string())),
        SqlType::Numeric { precision, scale } => {
            opt("precision", precision.map(|p| p.to_string()));
            opt("scale", scale.map(|s| s.to_string()));
        }
        SqlType::Boolean {
            create_constraint,
            name,
        } => {
            opt(
                "create_constraint",
                create_constraint.then(|| "True".to_string()),
            );
            opt("name", name.as_ref().map(|n| format!("'{n}'")));
        }
        SqlType::DateTime { timezone }
        | SqlType::Timestamp { timezone }
        | SqlType::Time { timezone } => opt("timezone", timezone.then(|| "True".to_string())),
        SqlType::Enum { values, .. } => parts.extend(values.iter().map(|v| format!("'{v}'"))),
        SqlType::DialectSpecific { name, .. } | SqlType::Named(name) | SqlType::Reflected(name) => {
            return name.clone()
        }
        SqlType::Variant { base, .. } => return type_repr(name, base),
        _ => {}
    }
    format!("{name}({})", parts.join(", "))
}

impl Native for TypeClass {
    fn type_name(&self) -> &str {
        self.0.name
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        let ty = self.build(args, kwargs, ctx)?;
        Ok(Value::native(TypeObj { spec: self.0, ty }))
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "__name__" | "__qualname__" => Ok(Value::str(self.0.name)),
            "__module__" => Ok(Value::str(self.0.module)),
            // `sa.Text.with_variant(...)` on the class is a common slip; SQLAlchemy requires an
            // instance there too, but builds one for the first argument of `with_variant`.
            _ => Err(ctx.native_unsupported(
                &self.0.qualified(),
                format!("reading class attribute `{name}`"),
            )),
        }
    }

    fn construct(
        &self,
        class: &std::rc::Rc<crate::interp::Class>,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        ctx: &mut Ctx,
    ) -> Result<Value> {
        super::custom_types::construct(class, args, kwargs, ctx)
    }

    fn instance_attr(&self, receiver: &Value, name: &str, ctx: &mut Ctx) -> Result<Value> {
        super::custom_types::instance_attr(self.0, receiver, name, ctx)
    }

    /// `TypeDecorator[uuid.UUID]`: a generic alias, the class itself for every purpose here.
    fn getitem(&self, _index: &Value, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::native(TypeClass(self.0)))
    }

    fn is_instance(&self, value: &Value, _ctx: &mut Ctx) -> Result<bool> {
        Ok(value
            .downcast_native::<TypeObj>()
            .is_some_and(|t| t.spec.is_subclass_of(self.0))
            || super::custom_types::is_instance_of(value, self.0))
    }

    fn eq(&self, other: &Value, _ctx: &mut Ctx) -> Result<bool> {
        Ok(other
            .downcast_native::<TypeClass>()
            .is_some_and(|o| std::ptr::eq(o.0, self.0)))
    }

    fn repr(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(format!("<class '{}'>", self.0.qualified()))
    }
}

impl Native for TypeObj {
    fn type_name(&self) -> &str {
        self.spec.name
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let base = match &self.ty {
            SqlType::Variant { base, .. } => base.as_ref(),
            t => t,
        };
        let size = |v: &Option<u32>| v.map_or(Value::None, |n| Value::Int(i64::from(n)));
        let value = match (name, base) {
            ("with_variant", _) => {
                let base_ty = self.ty.clone();
                let spec = self.spec;
                return Ok(Value::native(crate::interp::NativeFunction::new(
                    format!("{}.with_variant", spec.name),
                    move |args, kwargs, ctx| with_variant(spec, &base_ty, args, kwargs, ctx),
                )));
            }
            (
                "length",
                SqlType::Varchar { length, .. }
                | SqlType::Char { length }
                | SqlType::NVarchar { length }
                | SqlType::Text { length }
                | SqlType::LargeBinary { length },
            ) => size(length),
            ("length", SqlType::Enum { length, .. }) => size(length),
            ("collation", SqlType::Varchar { collation, .. }) => {
                collation.as_deref().map_or(Value::None, Value::str)
            }
            (
                "collation",
                SqlType::Char { .. }
                | SqlType::NVarchar { .. }
                | SqlType::Text { .. }
                | SqlType::Enum { .. },
            ) => Value::None,
            (
                "timezone",
                SqlType::DateTime { timezone }
                | SqlType::Timestamp { timezone }
                | SqlType::Time { timezone },
            ) => Value::Bool(*timezone),
            (
                "precision",
                SqlType::Float { precision, .. } | SqlType::Numeric { precision, .. },
            ) => size(precision),
            ("scale", SqlType::Numeric { scale, .. }) => size(scale),
            (
                "create_constraint",
                SqlType::Boolean {
                    create_constraint, ..
                }
                | SqlType::Enum {
                    create_constraint, ..
                },
            ) => Value::Bool(*create_constraint),
            ("name", SqlType::Boolean { name, .. } | SqlType::Enum { name, .. }) => {
                name.as_deref().map_or(Value::None, Value::str)
            }
            ("enums", SqlType::Enum { values, .. }) => {
                Value::list(values.iter().map(|v| Value::str(v)).collect())
            }
            ("native_enum", SqlType::Enum { native, .. }) => Value::Bool(*native),
            (
                "create" | "drop",
                SqlType::Enum {
                    native: true,
                    name: Some(type_name),
                    values,
                    ..
                },
            ) => {
                let ddl = super::enum_ddl::EnumDdl {
                    create: name == "create",
                    name: type_name.clone(),
                    values: values.clone(),
                    // PostgreSQL's own ENUM checks first by default; `sa.Enum` does not.
                    postgresql_class: self.spec.module == "sqlalchemy.dialects.postgresql",
                };
                return Ok(Value::native(crate::interp::NativeFunction::new(
                    format!("{}.{name}", self.spec.name),
                    move |args, kwargs, ctx| ddl.run(args, kwargs, ctx),
                )));
            }
            ("__class__", _) => Value::native(TypeClass(self.spec)),
            _ => {
                return Err(
                    ctx.native_unsupported(self.spec.name, format!("reading attribute `{name}`"))
                )
            }
        };
        Ok(value)
    }

    fn eq(&self, other: &Value, _ctx: &mut Ctx) -> Result<bool> {
        Ok(other
            .downcast_native::<TypeObj>()
            .is_some_and(|o| std::ptr::eq(o.spec, self.spec) && o.ty == self.ty))
    }

    fn repr(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(type_repr(self.spec.name, &self.ty))
    }
}

/// `type.with_variant(other, "mysql", ...)`: the base class stays, the variants accumulate.
fn with_variant(
    spec: &'static TypeSpec,
    base: &SqlType,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = format!("{}.with_variant", spec.name);
    let mut a = Args::new(callee.clone(), args, kwargs);
    let other = a.required(0, "type_", ctx)?;
    let other = to_type(&other, ctx)?;
    let names = a.rest(1);
    a.finish(ctx)?;
    if names.is_empty() {
        return Err(ctx.native_error(&callee, "missing the dialect name"));
    }
    let (base, mut variants) = match base {
        SqlType::Variant { base, variants } => (base.clone(), variants.clone()),
        other => (Box::new(other.clone()), Vec::new()),
    };
    for n in names {
        let Some(dialect) = n.as_str() else {
            return Err(ctx.native_error(
                &callee,
                format!("a dialect name must be a string, got {}", n.type_name()),
            ));
        };
        if variants.iter().any(|(d, _)| d == dialect) {
            return Err(sa_exception(
                ctx,
                "ArgumentError",
                format!("Dialect '{dialect}' is already present in the mapping for this Variant"),
            ));
        }
        variants.push((dialect.to_string(), other.clone()));
    }
    Ok(Value::native(TypeObj {
        spec,
        ty: SqlType::Variant { base, variants },
    }))
}

/// A type instance or class as an `SqlType`.
pub(crate) fn to_type(v: &Value, ctx: &mut Ctx) -> Result<SqlType> {
    if let Some(t) = v.downcast_native::<TypeObj>() {
        return Ok(t.ty.clone());
    }
    if let Some(c) = v.downcast_native::<TypeClass>() {
        return c.build(Vec::new(), Vec::new(), ctx);
    }
    if let Some(user) = super::custom_types::resolve(v, ctx) {
        return user;
    }
    Err(ctx.native_error(
        "sqlalchemy",
        format!("expected a SQLAlchemy type, got {}", v.type_name()),
    ))
}

pub(crate) fn is_type(v: &Value) -> bool {
    v.downcast_native::<TypeObj>().is_some()
        || v.downcast_native::<TypeClass>().is_some()
        || super::custom_types::is_user_type(v)
}

/// A type value for an `SqlType` (an inspector's answer, a reflected column).
pub(crate) fn type_value(ty: &SqlType) -> Value {
    Value::native(TypeObj {
        spec: spec_of(ty),
        ty: ty.clone(),
    })
}
