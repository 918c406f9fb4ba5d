//! The Immich OpenAPI documents as a contract (upload.md §9): requests
//! that memoria sends and answers that the fake gives are validated
//! against the document of the server generation, with the known gaps
//! patched.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use super::multipart::Part;
use super::Gen;

/// One loaded OpenAPI document.
pub struct Spec {
    doc: Value,
}

static SPECS: [OnceLock<Spec>; 3] =
    [OnceLock::new(), OnceLock::new(), OnceLock::new()];

/// Returns the document of `gen`, loaded once per test process.
pub fn spec(gen: Gen) -> &'static Spec {
    let (slot, file) = match gen {
        Gen::G1 => (&SPECS[0], "immich-openapi-specs-v1.143.1.json"),
        Gen::G2 => (&SPECS[1], "immich-openapi-specs-v2.7.3.json"),
        Gen::G3 => (&SPECS[2], "immich-openapi-specs-v3.0.3.json"),
    };
    slot.get_or_init(|| {
        let path = spec_dir().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut doc: Value = serde_json::from_str(&text).expect("spec JSON");
        if gen == Gen::G1 {
            patch_v1(&mut doc);
        }
        Spec { doc }
    })
}

/// The spec folder: the endpoints memoria calls and the schemas they use,
/// cut from the official Immich OpenAPI documents (see its README).
fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/fake_immich/openapi")
}

/// Patches the gaps of 1.143.1 listed in upload.md §9.
fn patch_v1(doc: &mut Value) {
    let dto = &mut doc["components"]["schemas"]["AssetMediaCreateDto"];
    if let Some(required) = dto["required"].as_array_mut() {
        required.retain(|r| r != "metadata");
    }
    let responses = &mut doc["paths"]["/assets"]["post"]["responses"];
    let created = responses["201"].clone();
    responses["200"] = created;
}

impl Spec {
    /// Finds the operation of `method path` (path without `/api`);
    /// returns the template and the path parameters.
    pub fn route(
        &self,
        method: &str,
        path: &str,
    ) -> Option<(String, &Value, HashMap<String, String>)> {
        let paths = self.doc["paths"].as_object()?;
        let method = method.to_ascii_lowercase();
        let want: Vec<&str> = path.split('/').collect();
        let mut best: Option<(String, &Value, HashMap<String, String>)> = None;
        for (template, item) in paths {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != want.len() {
                continue;
            }
            let mut params = HashMap::new();
            let fits = parts.iter().zip(&want).all(|(t, w)| {
                if t.starts_with('{') && t.ends_with('}') {
                    params.insert(t[1..t.len() - 1].to_string(), w.to_string());
                    !w.is_empty()
                } else {
                    t == w
                }
            });
            // A literal segment beats a parameter (`/api-keys/me` over
            // `/api-keys/{id}`).
            let better = best.as_ref().is_none_or(|b| params.len() < b.2.len());
            if let (true, true, Some(op)) = (fits, better, item.get(&method)) {
                best = Some((template.clone(), op, params));
            }
        }
        best
    }

    /// Checks path and query parameters.
    pub fn check_params(
        &self,
        op: &Value,
        path: &HashMap<String, String>,
        query: &[(String, String)],
    ) -> Vec<String> {
        let mut errs = Vec::new();
        let declared = op["parameters"].as_array().cloned().unwrap_or_default();
        for (name, value) in query {
            let Some(p) = declared
                .iter()
                .find(|p| p["name"] == name.as_str() && p["in"] == "query")
            else {
                errs.push(format!("unknown query parameter {name}"));
                continue;
            };
            self.check_text(
                &p["schema"],
                value,
                &format!("query {name}"),
                &mut errs,
            );
        }
        for p in &declared {
            let name = p["name"].as_str().unwrap_or("");
            match p["in"].as_str() {
                Some("path") => match path.get(name) {
                    Some(v) => self.check_text(
                        &p["schema"],
                        v,
                        &format!("path {name}"),
                        &mut errs,
                    ),
                    None => errs.push(format!("missing path parameter {name}")),
                },
                Some("query")
                    if p["required"] == true
                        && !query.iter().any(|(k, _)| k == name) =>
                {
                    errs.push(format!("missing query parameter {name}"));
                }
                _ => {}
            }
        }
        errs
    }

    /// Checks a JSON request body.
    pub fn check_json(&self, op: &Value, body: &Value) -> Vec<String> {
        let mut errs = Vec::new();
        let schema =
            &op["requestBody"]["content"]["application/json"]["schema"];
        if schema.is_null() {
            errs.push("operation takes no JSON body".into());
        } else {
            self.validate(schema, body, "body", &mut errs);
        }
        errs
    }

    /// Checks a multipart body: names, required fields, value types.
    pub fn check_multipart(&self, op: &Value, parts: &[Part]) -> Vec<String> {
        let mut errs = Vec::new();
        let schema = self.resolve(
            &op["requestBody"]["content"]["multipart/form-data"]["schema"],
        );
        let props =
            schema["properties"].as_object().cloned().unwrap_or_default();
        let mut seen = Vec::new();
        for part in parts {
            if seen.contains(&part.name) {
                errs.push(format!("field {} sent twice", part.name));
            }
            seen.push(part.name.clone());
            let Some(prop) = props.get(&part.name) else {
                errs.push(format!("unexpected multipart field {}", part.name));
                continue;
            };
            let prop = self.resolve(prop);
            let binary = prop["format"] == "binary";
            match (&part.text, binary) {
                (None, true) => {}
                (Some(_), true) => {
                    errs.push(format!("{} must be a file part", part.name))
                }
                (None, false) => {
                    errs.push(format!("{} must be a text field", part.name))
                }
                (Some(text), false) => {
                    let at = format!("field {}", part.name);
                    self.check_text(prop, text, &at, &mut errs);
                }
            }
        }
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or("");
            if !seen.iter().any(|s| s == name) {
                errs.push(format!("missing required field {name}"));
            }
        }
        errs
    }

    /// Checks an answer the fake is about to give.
    pub fn check_response(
        &self,
        op: &Value,
        status: u16,
        body: &Value,
    ) -> Vec<String> {
        let mut errs = Vec::new();
        let response = &op["responses"][status.to_string()];
        if response.is_null() {
            if status < 400 {
                errs.push(format!("status {status} not declared"));
            }
            return errs;
        }
        let schema = &response["content"]["application/json"]["schema"];
        if !schema.is_null() {
            self.validate(schema, body, "response", &mut errs);
        }
        errs
    }

    /// Checks a text value (query, path, form field) against `schema`.
    fn check_text(
        &self,
        schema: &Value,
        text: &str,
        at: &str,
        errs: &mut Vec<String>,
    ) {
        let schema = self.resolve(schema);
        let kind = schema["type"]
            .as_str()
            .or_else(|| self.resolve(&schema["allOf"][0])["type"].as_str())
            .unwrap_or("string");
        let value = match kind {
            "boolean" => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    errs.push(format!("{at}: '{text}' is not a boolean"));
                    return;
                }
            },
            "integer" | "number" => match text.parse::<serde_json::Number>() {
                Ok(n) => Value::Number(n),
                Err(_) => {
                    errs.push(format!("{at}: '{text}' is not a number"));
                    return;
                }
            },
            "array" | "object" => match serde_json::from_str(text) {
                Ok(v) => v,
                Err(_) => {
                    errs.push(format!("{at}: not JSON"));
                    return;
                }
            },
            _ => Value::String(text.to_string()),
        };
        self.validate(schema, &value, at, errs);
    }

    /// Follows `$ref`s.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        while let Some(r) = schema["$ref"].as_str() {
            let name = r.trim_start_matches("#/components/schemas/");
            schema = &self.doc["components"]["schemas"][name];
        }
        schema
    }

    /// Validates `value` against `schema` (the subset the Immich
    /// documents use).
    fn validate(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        errs: &mut Vec<String>,
    ) {
        let schema = self.resolve(schema);
        if value.is_null() && schema["nullable"] == true {
            return;
        }
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                self.validate(s, value, at, errs);
            }
        }
        if let Some(options) = schema["enum"].as_array() {
            if !options.contains(value) {
                errs.push(format!("{at}: {value} not in {options:?}"));
            }
        }
        let kind = schema["type"]
            .as_str()
            .or_else(|| schema.get("properties").map(|_| "object"));
        match kind {
            Some("object") => self.object(schema, value, at, errs),
            Some("array") => match value.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.validate(
                            &schema["items"],
                            item,
                            &format!("{at}[{i}]"),
                            errs,
                        );
                    }
                }
                None => errs.push(format!("{at}: expected an array")),
            },
            Some("string") => match value.as_str() {
                Some(text) => string(schema, text, at, errs),
                None => {
                    errs.push(format!("{at}: expected a string, got {value}"))
                }
            },
            Some("integer") if !(value.is_i64() || value.is_u64()) => {
                errs.push(format!("{at}: expected an integer, got {value}"));
            }
            Some("number") if !value.is_number() => {
                errs.push(format!("{at}: expected a number"));
            }
            Some("boolean") if !value.is_boolean() => {
                errs.push(format!("{at}: expected a boolean, got {value}"));
            }
            _ => {}
        }
    }

    /// Validates an object: type, required and known properties.
    fn object(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        errs: &mut Vec<String>,
    ) {
        let Some(map) = value.as_object() else {
            errs.push(format!("{at}: expected an object, got {value}"));
            return;
        };
        let props = schema["properties"].as_object();
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or("");
            if !map.contains_key(name) {
                errs.push(format!("{at}: missing required {name}"));
            }
        }
        for (key, item) in map {
            match props.and_then(|p| p.get(key)) {
                Some(prop) => {
                    self.validate(prop, item, &format!("{at}.{key}"), errs)
                }
                None if props.is_some() => {
                    errs.push(format!("{at}: unexpected property {key}"))
                }
                None => {}
            }
        }
    }
}

/// Validates a string's format and pattern.
fn string(schema: &Value, text: &str, at: &str, errs: &mut Vec<String>) {
    match schema["format"].as_str() {
        Some("date-time") if text.parse::<jiff::Timestamp>().is_err() => {
            errs.push(format!("{at}: '{text}' is not an ISO-8601 date-time"));
        }
        Some("uuid") => {
            let ok = text.len() == 36
                && text.chars().enumerate().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => c == '-',
                    _ => c.is_ascii_hexdigit(),
                });
            if !ok {
                errs.push(format!("{at}: '{text}' is not a UUID"));
            }
        }
        Some("email") if !text.contains('@') => {
            errs.push(format!("{at}: '{text}' is not an email"));
        }
        _ => {}
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        let re = regex::Regex::new(pattern).expect("spec pattern compiles");
        if !re.is_match(text) {
            errs.push(format!("{at}: '{text}' does not match {pattern}"));
        }
    }
}

/// The contract checks themselves must be able to fail.
mod checks {
    use serde_json::json;

    use super::super::multipart::Part;
    use super::*;

    fn text(name: &str, value: &str) -> Part {
        Part {
            name: name.into(),
            filename: None,
            content_type: None,
            text: Some(value.into()),
            size: value.len() as u64,
            sha1: None,
            bytes: None,
        }
    }

    fn file(name: &str) -> Part {
        Part { filename: Some("a.jpg".into()), text: None, ..text(name, "") }
    }

    #[test]
    fn uploads_are_checked_per_generation() {
        let date = "2021-01-01T09:30:00.000Z";
        let g3 = vec![
            text("fileCreatedAt", date),
            text("fileModifiedAt", date),
            text("isFavorite", "false"),
            file("assetData"),
        ];
        for gen in [Gen::G1, Gen::G2, Gen::G3] {
            let spec = spec(gen);
            let (_, op, _) = spec.route("POST", "/assets").unwrap();
            let errs = spec.check_multipart(op, &g3);
            assert_eq!(errs.is_empty(), gen == Gen::G3, "{gen:?}: {errs:?}");
            let mut g2 = g3.clone();
            g2.insert(0, text("deviceAssetId", "a.jpg-1"));
            g2.insert(1, text("deviceId", "memoria"));
            let errs = spec.check_multipart(op, &g2);
            assert_eq!(errs.is_empty(), gen != Gen::G3, "{gen:?}: {errs:?}");
        }
        let spec = spec(Gen::G3);
        let (_, op, _) = spec.route("POST", "/assets").unwrap();
        let mut bad = g3.clone();
        bad[0] = text("fileCreatedAt", "2021-01-01 09:30:00");
        bad[2] = text("isFavorite", "yes");
        bad.push(text("duration", "0:00:01.000"));
        let errs = spec.check_multipart(op, &bad);
        assert_eq!(
            errs.len(),
            4,
            "format, pattern, boolean, integer: {errs:?}"
        );
        let errs = spec.check_multipart(op, &g3[1..]);
        assert_eq!(errs, ["missing required field fileCreatedAt"]);
    }

    #[test]
    fn json_bodies_params_and_answers_are_checked() {
        let spec = spec(Gen::G3);
        let (_, op, params) =
            spec.route("PUT", "/albums/not-a-uuid/assets").unwrap();
        assert!(!spec.check_params(op, &params, &[]).is_empty());
        assert!(!spec.check_json(op, &json!({"ids": ["x"]})).is_empty());
        assert!(!spec.check_json(op, &json!({"assetIds": []})).is_empty());
        let (_, op, _) = spec.route("GET", "/albums").unwrap();
        let query = [("shared".to_string(), "true".to_string())];
        assert!(!spec.check_params(op, &HashMap::new(), &query).is_empty());
        let (_, op, _) = spec.route("GET", "/server/version").unwrap();
        let v2 = json!({"major": 3, "minor": 0, "patch": 3});
        assert!(!spec.check_response(op, 200, &v2).is_empty());
        let v3 =
            json!({"major": 3, "minor": 0, "patch": 3, "prerelease": null});
        assert!(spec.check_response(op, 200, &v3).is_empty());
    }
}
