//! The fake's answers per route: server info, the user and key, the
//! duplicate check, uploads and albums, in the shape of each generation.

use serde_json::{json, Value};

use super::multipart::Part;
use super::{Album, Asset, Gen, Inner, CREATED, EMAIL, USER_ID};

impl Inner {
    pub(super) fn version(&self) -> Value {
        let (major, minor, patch) = self.profile.version;
        let mut v = json!({"major": major, "minor": minor, "patch": patch});
        if self.profile.gen == Gen::G3 {
            v["prerelease"] = Value::Null;
        }
        v
    }

    pub(super) fn user(&self) -> Value {
        json!({"id": USER_ID, "email": EMAIL, "name": "Alice",
               "avatarColor": "primary", "profileImagePath": "",
               "profileChangedAt": CREATED})
    }

    pub(super) fn user_admin(&self) -> Value {
        let mut user = self.user();
        let extra = json!({
            "createdAt": CREATED, "updatedAt": CREATED, "deletedAt": null,
            "isAdmin": true, "license": null, "oauthId": "",
            "quotaSizeInBytes": null, "quotaUsageInBytes": 0,
            "shouldChangePassword": false, "status": "active",
            "storageLabel": "admin",
        });
        for (k, v) in extra.as_object().unwrap() {
            user[k] = v.clone();
        }
        user
    }

    pub(super) fn api_key(&self) -> Value {
        json!({"id": "6f0c35a0-6b1b-4a3c-9b4e-2d7c1f0e8a11", "name": "memoria",
               "createdAt": CREATED, "updatedAt": CREATED,
               "permissions": self.profile.permissions})
    }

    pub(super) fn bulk_check(&self, body: Option<&Value>) -> Value {
        let state = self.state.lock().unwrap();
        let items = body
            .and_then(|b| b["assets"].as_array())
            .cloned()
            .unwrap_or_default();
        let results: Vec<Value> = items
            .iter()
            .map(|item| {
                let sum =
                    item["checksum"].as_str().unwrap_or("").to_lowercase();
                match state.assets.iter().find(|a| a.checksum == sum) {
                    Some(a) => json!({"id": item["id"], "action": "reject",
                        "reason": "duplicate", "assetId": a.id,
                        "isTrashed": a.trashed}),
                    None => json!({"id": item["id"], "action": "accept"}),
                }
            })
            .collect();
        json!({ "results": results })
    }

    pub(super) fn upload(
        &self,
        parts: &[Part],
    ) -> (u16, Result<Value, String>) {
        let Some(data) = parts.iter().find(|p| p.name == "assetData") else {
            return (400, Err("assetData is required".into()));
        };
        let name = data.filename.clone().unwrap_or_default();
        let ext = name
            .rfind('.')
            .map(|i| name[i..].to_lowercase())
            .unwrap_or_default();
        let media = self.media_types();
        let known = |key: &str| {
            media[key].as_array().unwrap().iter().any(|e| e == &ext)
        };
        if !known("image") && !known("video") {
            return (400, Err(format!("Unsupported file type {name}")));
        }
        let sidecar = parts.iter().find(|p| p.name == "sidecarData");
        if let Some(s) = sidecar {
            if !s.filename.as_deref().unwrap_or("").ends_with(".xmp") {
                return (400, Err("Unsupported file type for sidecar".into()));
            }
        }
        let checksum = data.sha1.clone().unwrap_or_default();
        let mut state = self.state.lock().unwrap();
        if let Some(existing) =
            state.assets.iter().find(|a| a.checksum == checksum)
        {
            return (
                200,
                Ok(json!({"id": existing.id, "status": "duplicate"})),
            );
        }
        let id = self.uuid();
        let fields = parts
            .iter()
            .filter_map(|p| Some((p.name.clone(), p.text.clone()?)))
            .collect();
        state.assets.push(Asset {
            id: id.clone(),
            checksum,
            filename: name,
            size: data.size,
            fields,
            sidecar: sidecar.map(|s| {
                (
                    s.filename.clone().unwrap_or_default(),
                    s.bytes.clone().unwrap_or_default(),
                )
            }),
            trashed: false,
        });
        (201, Ok(json!({"id": id, "status": "created"})))
    }

    pub(super) fn album_json(&self, album: &Album) -> Value {
        let mut v = json!({
            "id": album.id, "albumName": album.name, "description": "",
            "albumThumbnailAssetId": null, "assetCount": album.assets.len(),
            "createdAt": album.created_at, "updatedAt": album.created_at,
            "hasSharedLink": false, "isActivityEnabled": true,
            "shared": false, "order": "desc",
        });
        match self.profile.gen {
            Gen::G1 | Gen::G2 => {
                v["ownerId"] = json!(album.owner);
                v["owner"] = self.user();
                v["owner"]["id"] = json!(album.owner);
                v["assets"] = json!([]);
                v["albumUsers"] = json!([]);
            }
            Gen::G3 => {
                let mut owner = self.user();
                owner["id"] = json!(album.owner);
                v["albumUsers"] = json!([{"role": "owner", "user": owner}]);
            }
        }
        v
    }

    pub(super) fn list_albums(&self, query: &[(String, String)]) -> Value {
        let state = self.state.lock().unwrap();
        let get = |k: &str| {
            query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str())
        };
        let list: Vec<Value> = state
            .albums
            .iter()
            .filter(|a| get("name").is_none_or(|n| a.name.contains(n)))
            .filter(|a| get("isOwned") != Some("true") || a.owner == USER_ID)
            .map(|a| self.album_json(a))
            .collect();
        Value::Array(list)
    }

    pub(super) fn create_album(&self, body: Option<&Value>) -> Value {
        let name = body
            .and_then(|b| b["albumName"].as_str())
            .unwrap_or("")
            .to_string();
        let album = Album {
            id: self.uuid(),
            name,
            owner: USER_ID.into(),
            created_at: CREATED.into(),
            assets: Vec::new(),
        };
        let json = self.album_json(&album);
        self.state.lock().unwrap().albums.push(album);
        json
    }

    pub(super) fn add_assets(
        &self,
        album: &str,
        body: Option<&Value>,
    ) -> (u16, Result<Value, String>) {
        let mut state = self.state.lock().unwrap();
        let ids: Vec<String> = body
            .and_then(|b| b["ids"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let known: Vec<String> =
            state.assets.iter().map(|a| a.id.clone()).collect();
        let Some(target) = state.albums.iter_mut().find(|a| a.id == album)
        else {
            return (400, Err("Not found or no album.addAssets access".into()));
        };
        let results: Vec<Value> = ids
            .iter()
            .map(|id| {
                if !known.contains(id) {
                    json!({"id": id, "success": false, "error": "no_permission"})
                } else if target.assets.contains(id) {
                    json!({"id": id, "success": false, "error": "duplicate"})
                } else {
                    target.assets.push(id.clone());
                    json!({"id": id, "success": true})
                }
            })
            .collect();
        (200, Ok(Value::Array(results)))
    }
}

impl Inner {
    /// The media types the fake accepts: all of [`media_types`] but the
    /// profile's unsupported extensions.
    pub(super) fn media_types(&self) -> Value {
        let mut types = media_types();
        for key in ["image", "video"] {
            if let Some(list) = types[key].as_array_mut() {
                list.retain(|e| {
                    !self.profile.unsupported.iter().any(|u| e == u.as_str())
                });
            }
        }
        types
    }
}

/// Every media type the fake knows.
pub(super) fn media_types() -> Value {
    json!({
        "image": [".avif", ".bmp", ".dng", ".gif", ".heic", ".heif", ".jpeg",
                  ".jpg", ".png", ".tif", ".tiff", ".webp"],
        "video": [".3gp", ".avi", ".m4v", ".mkv", ".mov", ".mp4", ".webm"],
        "sidecar": [".xmp"],
    })
}
