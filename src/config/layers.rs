//! Applying the layers, key by key, each value checked as it is applied.

use std::collections::BTreeMap;
use std::path::Path;

use hubwire_core::Config;
use serde_json::{Map, Value};

use super::{env_var_names, ConfigError, Source};

/// The effective configuration and where each value came from.
#[derive(Clone, Debug)]
pub struct Layered {
    /// The configuration.
    pub config: Config,
    /// The source of every key's value.
    pub sources: BTreeMap<String, Source>,
    values: Map<String, Value>,
}

impl Layered {
    /// `key = value  (source)` lines, one per key, for `--print-config`.
    pub fn describe(&self) -> String {
        let width = self.values.keys().map(String::len).max().unwrap_or(0);
        self.values
            .iter()
            .map(|(key, value)| {
                let source = self.sources.get(key).unwrap_or(&Source::Default);
                let value = match (SECRET_KEYS.contains(&key.as_str()), value) {
                    (true, Value::String(_)) => Value::String("(hidden)".into()),
                    (_, value) => value.clone(),
                };
                format!("{key:width$} = {value}  ({source})\n")
            })
            .collect()
    }
}

/// Keys whose values are lists, written in text as comma-separated items.
const LIST_KEYS: [&str; 5] = [
    "listen",
    "allow",
    "admin_allow",
    "bridges",
    "ws_allowed_origins",
];

/// Keys whose values are secrets: always text, never printed.
const SECRET_KEYS: [&str; 1] = ["bridge_secret"];

/// Reads a value written as text (environment or flag) for `key`, whose default is `like`: a
/// list from comma-separated items (or a JSON list), a string as it is, and anything else as
/// JSON (numbers, booleans, objects, `null`), falling back to a string.
fn text_to_value(key: &str, raw: &str, like: &Value) -> Value {
    if SECRET_KEYS.contains(&key) {
        return Value::String(raw.to_owned());
    }
    if LIST_KEYS.contains(&key) && !raw.trim_start().starts_with('[') {
        return Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        );
    }
    match like {
        Value::String(_) => Value::String(raw.to_owned()),
        _ => serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned())),
    }
}

fn suggestion(key: &str, known: &Map<String, Value>) -> String {
    let close = known.keys().find(|k| {
        k.contains(key)
            || key.contains(k.as_str())
            || k.replace('_', "") == key.replace(['_', '-'], "")
    });
    close.map_or_else(String::new, |k| format!("; did you mean {k:?}?"))
}

struct Builder {
    defaults: Map<String, Value>,
    values: Map<String, Value>,
    sources: BTreeMap<String, Source>,
}

impl Builder {
    /// Applies one value, checking that the key exists and that the value fits it.
    fn apply(&mut self, key: &str, value: Value, source: Source) -> Result<(), ConfigError> {
        if !self.defaults.contains_key(key) {
            return Err(ConfigError::UnknownKey {
                key: key.to_owned(),
                hint: suggestion(key, &self.defaults),
                origin: source,
            });
        }
        let mut trial = self.defaults.clone();
        trial.insert(key.to_owned(), value.clone());
        if let Err(e) = serde_json::from_value::<Config>(Value::Object(trial)) {
            return Err(ConfigError::BadValue {
                key: key.to_owned(),
                value: value.to_string(),
                origin: source,
                reason: e.to_string(),
            });
        }
        self.values.insert(key.to_owned(), value);
        self.sources.insert(key.to_owned(), source);
        Ok(())
    }
}

/// Builds the configuration of `app` instance `instance` from the defaults, the optional file,
/// the environment `env` (name, value pairs) and the flags `(key, text, flag as written)`.
pub fn load(
    app: &str,
    instance: &str,
    file: Option<&Path>,
    env: &[(String, String)],
    flags: &[(String, String, String)],
) -> Result<Layered, ConfigError> {
    load_over(Config::default(), app, instance, file, env, flags)
}

/// Like [`load`], over an application's own `defaults` instead of hubwire's.
pub fn load_over(
    defaults: Config,
    app: &str,
    instance: &str,
    file: Option<&Path>,
    env: &[(String, String)],
    flags: &[(String, String, String)],
) -> Result<Layered, ConfigError> {
    let Value::Object(defaults) = serde_json::to_value(defaults).expect("defaults encode") else {
        unreachable!("a struct encodes as an object")
    };
    let mut builder = Builder {
        values: defaults.clone(),
        sources: defaults
            .keys()
            .map(|k| (k.clone(), Source::Default))
            .collect(),
        defaults,
    };
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        let parsed: Value = serde_json::from_str(&text).map_err(|e| ConfigError::NotJson {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let Value::Object(entries) = parsed else {
            return Err(ConfigError::NotJson {
                path: path.to_owned(),
                reason: "the top level must be an object of keys and values".into(),
            });
        };
        for (key, value) in entries {
            builder.apply(&key, value, Source::File(path.to_owned()))?;
        }
    }
    let keys: Vec<String> = builder.defaults.keys().cloned().collect();
    for key in &keys {
        let found = env_var_names(key, app, instance)
            .into_iter()
            .find_map(|name| env.iter().find(|(n, _)| *n == name).cloned());
        if let Some((name, raw)) = found {
            let value = text_to_value(key, &raw, &builder.defaults[key]);
            builder.apply(key, value, Source::Env(name))?;
        }
    }
    for (key, raw, flag) in flags {
        let like = builder.defaults.get(key).cloned().unwrap_or(Value::Null);
        builder.apply(
            key,
            text_to_value(key, raw, &like),
            Source::Flag(flag.clone()),
        )?;
    }
    let config: Config =
        serde_json::from_value(Value::Object(builder.values.clone())).map_err(|e| {
            ConfigError::BadValue {
                key: "(several)".into(),
                value: String::new(),
                origin: Source::Default,
                reason: e.to_string(),
            }
        })?;
    if let Err(invalid) = config.validate() {
        let source = builder
            .sources
            .get(invalid.key)
            .cloned()
            .unwrap_or(Source::Default);
        return Err(ConfigError::BadValue {
            key: invalid.key.to_owned(),
            value: invalid.value,
            origin: source,
            reason: invalid.reason,
        });
    }
    Ok(Layered {
        config,
        sources: builder.sources,
        values: builder.values,
    })
}

#[cfg(test)]
#[path = "layers_tests.rs"]
mod tests;
