//! An in-process fake Immich server on 127.0.0.1:0 (upload.md §9).
//!
//! Profiles G1 (1.143), G2 (2.7) and G3 (3.0) follow the OpenAPI document
//! of their generation: every request is validated against it (unknown or
//! missing fields, wrong types, wrong date formats are refused with 400)
//! and so is every answer the fake gives. It deduplicates by SHA-1,
//! issues UUID v4 ids, keeps a request log and injects faults per route
//! and call number.

#![allow(dead_code)]

pub mod contract;
pub mod http;
pub mod multipart;
mod routes;

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use self::http::{Action, Request, Response, Server};
use self::multipart::Part;

/// The API key the fake accepts.
pub const KEY: &str = "memoria-test-key-5f1d0c";
/// The fake user's id and email.
pub const USER_ID: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
pub const EMAIL: &str = "alice@example.com";
/// Creation time of every fake object.
const CREATED: &str = "2026-01-01T00:00:00.000Z";

/// A server generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gen {
    G1,
    G2,
    G3,
}

/// What the fake is and claims to be.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The contract it enforces and the shapes it answers with.
    pub gen: Gen,
    /// The version it reports (may lie, to test the contract checks).
    pub version: (u64, u64, u64),
    /// The API key's permissions.
    pub permissions: Vec<String>,
    /// Whether `GET /users/me` is allowed.
    pub user_read: bool,
    /// Extensions (`.png`) left out of the media types it accepts.
    pub unsupported: Vec<String>,
}

impl Profile {
    pub fn of(gen: Gen) -> Profile {
        let version = match gen {
            Gen::G1 => (1, 143, 1),
            Gen::G2 => (2, 7, 3),
            Gen::G3 => (3, 0, 3),
        };
        Profile {
            gen,
            version,
            permissions: vec!["all".into()],
            user_read: true,
            unsupported: Vec::new(),
        }
    }
}

/// A fault to inject.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status (and `Retry-After` seconds).
    Status(u16, Option<u32>),
    /// Close the connection without an answer.
    Drop,
    /// Wait, then answer normally.
    Slow(Duration),
    /// Answer `200 text/html` (a web page).
    Html,
    /// Serve the request, then drop the answer (the server did the work
    /// but the client never hears of it).
    Lost,
}

/// One logged request.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    /// Full path, with `/api`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// `METHOD /template` (`PUT /albums/{id}/assets`).
    pub route: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub json: Option<Value>,
    pub parts: Vec<Part>,
}

impl Logged {
    /// Returns the text of multipart field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.parts.iter().find(|p| p.name == name)?.text.as_deref()
    }

    /// Returns the file part `name`.
    pub fn file(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name && p.filename.is_some())
    }
}

/// An asset on the fake server.
#[derive(Clone, Debug)]
pub struct Asset {
    pub id: String,
    pub checksum: String,
    pub filename: String,
    pub size: u64,
    pub fields: HashMap<String, String>,
    pub sidecar: Option<(String, Vec<u8>)>,
    /// In the user's trash (the duplicate check says `isTrashed`).
    pub trashed: bool,
}

/// An album on the fake server.
#[derive(Clone, Debug)]
pub struct Album {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub created_at: String,
    pub assets: Vec<String>,
}

#[derive(Default)]
struct State {
    log: Vec<Logged>,
    assets: Vec<Asset>,
    albums: Vec<Album>,
    faults: Vec<(String, usize, Fault)>,
    calls: HashMap<String, usize>,
    violations: Vec<String>,
}

struct Inner {
    profile: Profile,
    state: Mutex<State>,
    ids: AtomicU64,
}

/// A running fake Immich.
pub struct FakeImmich {
    inner: Arc<Inner>,
    server: Server,
}

impl FakeImmich {
    pub fn start(gen: Gen) -> FakeImmich {
        FakeImmich::with(Profile::of(gen))
    }

    pub fn with(profile: Profile) -> FakeImmich {
        let seed = std::process::id() as u64 ^ nanos();
        let inner = Arc::new(Inner {
            profile,
            state: Mutex::new(State::default()),
            ids: AtomicU64::new(seed | 1),
        });
        let handler_inner = Arc::clone(&inner);
        let server = Server::start(Arc::new(move |req, body| {
            handler_inner.handle(req, body)
        }));
        FakeImmich { inner, server }
    }

    /// The base URL without `/api` (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Injects `fault` into calls number `calls` (1-based) of `route`
    /// (`POST /assets`, `PUT /albums/{id}/assets`, …).
    pub fn fault(
        &self,
        route: &str,
        calls: impl IntoIterator<Item = usize>,
        fault: Fault,
    ) {
        let mut state = self.inner.state.lock().unwrap();
        for n in calls {
            state.faults.push((route.to_string(), n, fault.clone()));
        }
    }

    /// Adds an album owned by `owner` (for several-albums-one-name
    /// scenarios).
    pub fn add_album(
        &self,
        name: &str,
        owner: &str,
        created_at: &str,
    ) -> String {
        let id = self.inner.uuid();
        self.inner.state.lock().unwrap().albums.push(Album {
            id: id.clone(),
            name: name.into(),
            owner: owner.into(),
            created_at: created_at.into(),
            assets: Vec::new(),
        });
        id
    }

    /// Moves the assets called `filename` to the trash.
    pub fn trash(&self, filename: &str) {
        let mut state = self.inner.state.lock().unwrap();
        for asset in &mut state.assets {
            if asset.filename == filename {
                asset.trashed = true;
            }
        }
    }

    /// Takes every asset out of every album (as if a run had stopped
    /// before filing them).
    pub fn empty_albums(&self) {
        for album in &mut self.inner.state.lock().unwrap().albums {
            album.assets.clear();
        }
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.inner.state.lock().unwrap().log.clone()
    }

    /// The requests of one route.
    pub fn calls(&self, route: &str) -> Vec<Logged> {
        self.requests().into_iter().filter(|r| r.route == route).collect()
    }

    pub fn assets(&self) -> Vec<Asset> {
        self.inner.state.lock().unwrap().assets.clone()
    }

    pub fn albums(&self) -> Vec<Album> {
        self.inner.state.lock().unwrap().albums.clone()
    }

    /// Album name → file names of its assets, sorted.
    pub fn album_files(&self) -> HashMap<String, Vec<String>> {
        let state = self.inner.state.lock().unwrap();
        state
            .albums
            .iter()
            .map(|album| {
                let mut names: Vec<String> = album
                    .assets
                    .iter()
                    .filter_map(|id| state.assets.iter().find(|a| &a.id == id))
                    .map(|a| a.filename.clone())
                    .collect();
                names.sort();
                (album.name.clone(), names)
            })
            .collect()
    }

    /// Contract violations seen so far (requests refused, answers that
    /// did not fit the document).
    pub fn violations(&self) -> Vec<String> {
        self.inner.state.lock().unwrap().violations.clone()
    }

    /// Panics when any request or answer broke the contract.
    pub fn assert_clean(&self) {
        let v = self.violations();
        assert!(v.is_empty(), "contract violations: {v:#?}");
    }
}

fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7)
}

/// What one request produced before logging.
struct Handled {
    action: Action,
    json: Option<Value>,
    parts: Vec<Part>,
}

impl Inner {
    fn handle(&self, req: &Request, body: &mut dyn Read) -> Action {
        let spec = contract::spec(self.profile.gen);
        let api_path =
            req.path.strip_prefix("/api").filter(|p| p.starts_with('/'));
        let (route, op, params) = match api_path
            .and_then(|p| spec.route(&req.method, p))
        {
            Some((template, op, params)) => {
                (format!("{} {template}", req.method), Some(op), params)
            }
            None => {
                (format!("{} {}", req.method, req.path), None, HashMap::new())
            }
        };
        let fault = self.next_fault(&route);
        let handled = match fault {
            Some(Fault::Drop) => {
                // Read a little of the body first, like a reset mid-upload.
                let _ = body.take(4096).read_to_end(&mut Vec::new());
                Handled { action: Action::Drop, json: None, parts: Vec::new() }
            }
            Some(Fault::Html) => plain(Response::html(200)),
            Some(Fault::Status(code, after)) => {
                let mut answer = self.error(code, "injected fault");
                if let Some(secs) = after {
                    answer
                        .headers
                        .push(("retry-after".into(), secs.to_string()));
                }
                plain(answer)
            }
            Some(Fault::Lost) => {
                let done = self.serve(req, body, op, &params);
                Handled { action: Action::Drop, ..done }
            }
            Some(Fault::Slow(wait)) => {
                std::thread::sleep(wait);
                self.serve(req, body, op, &params)
            }
            None => self.serve(req, body, op, &params),
        };
        let status = match &handled.action {
            Action::Respond(r) => r.status,
            Action::Drop => 0,
        };
        self.state.lock().unwrap().log.push(Logged {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            route,
            status,
            headers: req.headers.clone(),
            json: handled.json,
            parts: handled.parts,
        });
        handled.action
    }

    fn next_fault(&self, route: &str) -> Option<Fault> {
        let mut state = self.state.lock().unwrap();
        let n = {
            let count = state.calls.entry(route.to_string()).or_default();
            *count += 1;
            *count
        };
        state
            .faults
            .iter()
            .find(|(r, at, _)| r == route && *at == n)
            .map(|(_, _, f)| f.clone())
    }

    /// Serves a request that no fault intercepted.
    fn serve(
        &self,
        req: &Request,
        body: &mut dyn Read,
        op: Option<&Value>,
        params: &HashMap<String, String>,
    ) -> Handled {
        if req.path == "/.well-known/immich" && req.method == "GET" {
            return plain(Response::json(
                200,
                &json!({"api": {"endpoint": "/api"}}),
            ));
        }
        if !req.path.starts_with("/api/") {
            return plain(Response::html(200));
        }
        let Some(op) = op else {
            return plain(
                self.error(404, &format!("Cannot {} {}", req.method, req.path)),
            );
        };
        let spec = contract::spec(self.profile.gen);
        let public = matches!(
            req.path.as_str(),
            "/api/server/version" | "/api/server/media-types"
        );
        if !public && req.header("x-api-key") != Some(KEY) {
            let _ = std::io::copy(body, &mut std::io::sink());
            return plain(self.error(401, "Invalid API key"));
        }
        let mut errs = spec.check_params(op, params, &req.query);
        let mut handled =
            Handled { action: Action::Drop, json: None, parts: Vec::new() };
        let kind = req.header("content-type").unwrap_or("").to_string();
        if let Some(boundary) = multipart::boundary(&kind) {
            match multipart::parse(&boundary, body) {
                Ok(parts) => {
                    errs.extend(spec.check_multipart(op, &parts));
                    errs.extend(part_order(&parts));
                    handled.parts = parts;
                }
                Err(e) => errs.push(format!("multipart: {e}")),
            }
        } else if req.content_length.unwrap_or(0) > 0 {
            let mut bytes = Vec::new();
            let _ = body.read_to_end(&mut bytes);
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(value) => {
                    if !kind.starts_with("application/json") {
                        errs.push(format!("JSON body sent as '{kind}'"));
                    }
                    errs.extend(spec.check_json(op, &value));
                    handled.json = Some(value);
                }
                Err(_) => errs.push("body is not JSON".into()),
            }
        } else if !op["requestBody"].is_null()
            && op["requestBody"]["required"] != false
        {
            errs.push("missing request body".into());
        }
        if !errs.is_empty() {
            let mut state = self.state.lock().unwrap();
            for e in &errs {
                state
                    .violations
                    .push(format!("{} {}: {e}", req.method, req.path));
            }
            drop(state);
            handled.action = Action::Respond(self.error(400, &errs.join("; ")));
            return handled;
        }
        let (status, value) = self.dispatch(req, &handled, params);
        let value = match value {
            Ok(value) => value,
            Err(message) => {
                handled.action = Action::Respond(self.error(status, &message));
                return handled;
            }
        };
        for e in spec.check_response(op, status, &value) {
            self.state
                .lock()
                .unwrap()
                .violations
                .push(format!("answer to {} {}: {e}", req.method, req.path));
        }
        handled.action = Action::Respond(Response::json(status, &value));
        handled
    }

    /// Routes a valid request; `Err` carries an error message.
    fn dispatch(
        &self,
        req: &Request,
        handled: &Handled,
        params: &HashMap<String, String>,
    ) -> (u16, Result<Value, String>) {
        let path = req.path.strip_prefix("/api").unwrap_or(&req.path);
        match (req.method.as_str(), path) {
            ("GET", "/server/version") => (200, Ok(self.version())),
            ("GET", "/server/media-types") => (200, Ok(self.media_types())),
            ("GET", "/users/me") if self.profile.user_read => {
                (200, Ok(self.user_admin()))
            }
            ("GET", "/users/me") => {
                (403, Err("Missing required permission: user.read".into()))
            }
            ("GET", "/api-keys/me") => (200, Ok(self.api_key())),
            ("POST", "/assets/bulk-upload-check") => {
                (200, Ok(self.bulk_check(handled.json.as_ref())))
            }
            ("POST", "/assets") => self.upload(&handled.parts),
            ("GET", "/albums") => (200, Ok(self.list_albums(&req.query))),
            ("POST", "/albums") => {
                (201, Ok(self.create_album(handled.json.as_ref())))
            }
            ("PUT", _) if path.ends_with("/assets") => {
                let id = params.get("id").cloned().unwrap_or_default();
                self.add_assets(&id, handled.json.as_ref())
            }
            _ => (404, Err(format!("Cannot {} {}", req.method, req.path))),
        }
    }

    fn uuid(&self) -> String {
        // xorshift64*, two rounds per id; version and variant bits set.
        let next = || {
            let mut x = self.ids.load(Ordering::SeqCst);
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.ids.store(x, Ordering::SeqCst);
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let (a, b) = (next(), next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    /// An error answer in the generation's format (upload.md §5.9).
    fn error(&self, status: u16, message: &str) -> Response {
        let cid = "cid7a87c";
        let (body, header) = match self.profile.gen {
            Gen::G1 | Gen::G2 => (
                json!({"message": message, "error": "Error",
                       "statusCode": status, "correlationId": cid}),
                "x-immich-cid",
            ),
            Gen::G3 => (json!({"message": message}), "X-Correlation-ID"),
        };
        let mut answer = Response::json(status, &body);
        answer.headers.push((header.into(), cid.into()));
        answer
    }
}

/// Text fields must precede `assetData`, and only `sidecarData` may
/// follow it (upload.md §5.7).
fn part_order(parts: &[Part]) -> Vec<String> {
    let Some(at) = parts.iter().position(|p| p.name == "assetData") else {
        return Vec::new();
    };
    parts[at + 1..]
        .iter()
        .filter(|p| p.name != "sidecarData")
        .map(|p| format!("field {} after assetData", p.name))
        .collect()
}

fn plain(response: Response) -> Handled {
    Handled { action: Action::Respond(response), json: None, parts: Vec::new() }
}
