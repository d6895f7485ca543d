//! Signed avatar URLs, minted by Storage and reused for part of their life, so rendering a page
//! does not call Storage every time. An entry is keyed by the object's path and the profile's
//! `avatar_updated_at`: a new upload changes the key, so nobody is handed the old picture.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Reuse a URL while at least this share of its life is left, so a page never carries one that
/// dies soon after it is shown.
const REUSE_FOR_FRACTION: u32 = 2;
/// Above this many entries, each insert first drops those too old to reuse.
const SWEEP_ABOVE: usize = 1024;

/// Which picture: its path and the moment it last changed (microseconds since the epoch).
pub type Key = (String, i64);

pub struct SignedUrls {
    ttl: Duration,
    entries: Mutex<HashMap<Key, (String, Instant)>>,
}

impl SignedUrls {
    /// URLs that live `ttl` (`AVATAR_URL_TTL`).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn reusable_for(&self) -> Duration {
        self.ttl / REUSE_FOR_FRACTION
    }

    /// A URL minted for `key` recently enough to hand out again.
    pub fn get(&self, key: &Key) -> Option<String> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(_, minted)| minted.elapsed() < self.reusable_for())
            .map(|(url, _)| url.clone())
    }

    /// Keeps `url`, just minted for `key`.
    pub fn put(&self, key: Key, url: String) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SWEEP_ABOVE {
            let reusable_for = self.reusable_for();
            entries.retain(|_, (_, minted)| minted.elapsed() < reusable_for);
        }
        entries.insert(key, (url, Instant::now()));
    }

    /// Forgets every URL of `path` (the picture changed or is gone).
    pub fn forget(&self, path: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(entry_path, _), _| entry_path != path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_reused_for_half_its_life_and_a_new_picture_gets_its_own() {
        let urls = SignedUrls::new(Duration::from_millis(200));
        let key = ("a/avatar".to_string(), 1);
        assert_eq!(urls.get(&key), None);
        urls.put(key.clone(), "https://signed/1".into());
        assert_eq!(urls.get(&key).as_deref(), Some("https://signed/1"));
        assert_eq!(urls.get(&("a/avatar".to_string(), 2)), None, "a new upload");
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(urls.get(&key), None, "past half its life");
        urls.put(key.clone(), "https://signed/2".into());
        urls.forget("a/avatar");
        assert_eq!(urls.get(&key), None);
    }
}
