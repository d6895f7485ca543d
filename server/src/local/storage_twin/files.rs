//! Object bytes on disk, laid out as Storage's file backend lays them out (without its tenant
//! folders): `{root}/{bucket}/{object name}/{version}`. Every upload gets a fresh version, so a
//! file, once in place, never changes: a new upload is written to `{version}.part` next to its
//! final name and renamed when complete, the row then points at it, and the previous version's
//! file is deleted only after that row is committed. A reader never sees half a file.

use std::{
    io::ErrorKind,
    path::{Path, PathBuf},
};

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;

use super::error::{StorageError, StorageResult};

/// Where the twin keeps object bytes.
#[derive(Debug, Clone)]
pub(super) struct ObjectFiles {
    root: PathBuf,
}

/// A stream of upload bytes: a raw request body or a multipart file part.
pub(super) trait UploadStream {
    /// The next piece, `None` at the end, or why the stream broke off.
    async fn next_chunk(&mut self) -> Option<Result<Bytes, String>>;
}

/// A file read back, with what Storage's file backend reports about it.
#[derive(Debug)]
pub(super) struct FileContents {
    pub(super) bytes: Vec<u8>,
    pub(super) e_tag: String,
    pub(super) last_modified: DateTime<Utc>,
}

/// A stored upload, as Storage's backend describes it.
#[derive(Debug, Clone)]
pub(super) struct StoredFile {
    pub(super) size: u64,
    /// The MD5 of the bytes in quotes, Storage's (and S3's) default `ETag`.
    pub(super) e_tag: String,
    pub(super) last_modified: DateTime<Utc>,
}

#[derive(Debug)]
pub(super) enum StoreError {
    /// The upload went over the limit; nothing was kept.
    TooLarge,
    /// The request body broke off.
    Interrupted(String),
    Io(std::io::Error),
}

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

impl ObjectFiles {
    pub(super) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The file of version `version` of `bucket/name`, with Storage's
    /// `resolveSecureFilesystemPath` rules so that no name can reach outside the root: no NUL,
    /// nothing absolute, no `.` or `..` segment (`/` and `\` both separate segments for that
    /// check). A refusal is Storage's `InvalidKey` naming the relative path and the reason.
    pub(super) fn path(
        &self,
        bucket: &str,
        name: &str,
        version: Option<&str>,
    ) -> StorageResult<PathBuf> {
        let relative = match version {
            Some(version) => format!("{bucket}/{name}/{version}"),
            None => format!("{bucket}/{name}"),
        };
        let refuse = |reason| Err(StorageError::invalid_path(&relative, reason));
        if relative.contains('\0') {
            return refuse("contains null byte");
        }
        if relative.starts_with('/') {
            return refuse("must be a relative path");
        }
        let bytes = relative.as_bytes();
        let windows_drive = bytes.len() > 2
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'/' | b'\\');
        if windows_drive || relative.starts_with("\\\\") {
            return refuse("must not be an absolute Windows path");
        }
        let segments: Vec<&str> = relative
            .split(['/', '\\'])
            .filter(|segment| !segment.is_empty())
            .collect();
        if segments.iter().any(|s| *s == "." || *s == "..") {
            return refuse("contains dot path segment");
        }
        // Only `/` separates folders on disk; a `\` stays part of a file name.
        let mut path = self.root.clone();
        for segment in relative.split('/').filter(|segment| !segment.is_empty()) {
            path.push(segment);
        }
        if !path.starts_with(&self.root) || path == self.root {
            return refuse("resolves outside storage directory");
        }
        Ok(path)
    }

    /// Writes `upload` to `path` through a `.part` file, refusing it (and keeping nothing) as
    /// soon as it goes over `limit` bytes: at most `limit` bytes are ever written.
    pub(super) async fn store(
        &self,
        path: &Path,
        upload: &mut impl UploadStream,
        limit: u64,
    ) -> Result<StoredFile, StoreError> {
        let mut part_name = path.file_name().unwrap_or_default().to_os_string();
        part_name.push(".part");
        let part = path.with_file_name(part_name);
        let result = self.write(path, &part, upload, limit).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&part).await;
            self.remove_empty_folders(&part).await;
        }
        result
    }

    async fn write(
        &self,
        path: &Path,
        part: &Path,
        upload: &mut impl UploadStream,
        limit: u64,
    ) -> Result<StoredFile, StoreError> {
        let mut file = self.create(part).await?;
        let mut md5 = Md5::new();
        let mut size: u64 = 0;
        while let Some(chunk) = upload.next_chunk().await {
            let chunk = chunk.map_err(StoreError::Interrupted)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(StoreError::TooLarge);
            }
            md5.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        drop(file);
        tokio::fs::rename(part, path).await?;
        let modified = tokio::fs::metadata(path).await?.modified()?;
        Ok(StoredFile {
            size,
            e_tag: e_tag(md5.finalize().as_slice()),
            last_modified: DateTime::<Utc>::from(modified),
        })
    }

    /// Creates `file` and its folders. A concurrent delete may remove a folder that has just
    /// become empty between the two steps, so that is tried once more.
    async fn create(&self, file: &Path) -> std::io::Result<tokio::fs::File> {
        let folder = file.parent().unwrap_or(&self.root);
        let mut attempt = 0;
        loop {
            tokio::fs::create_dir_all(folder).await?;
            match tokio::fs::File::create(file).await {
                Err(e) if e.kind() == ErrorKind::NotFound && attempt == 0 => attempt += 1,
                other => return other,
            }
        }
    }

    /// The file at `path`; `Ok(None)` when there is none.
    pub(super) async fn read(&self, path: &Path) -> std::io::Result<Option<FileContents>> {
        let not_found = |e: &std::io::Error| e.kind() == ErrorKind::NotFound;
        let bytes = match tokio::fs::read(path).await {
            Ok(bytes) => bytes,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let modified = match tokio::fs::metadata(path).await {
            Ok(metadata) => metadata.modified()?,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(FileContents {
            e_tag: e_tag(Md5::digest(&bytes).as_slice()),
            bytes,
            last_modified: DateTime::<Utc>::from(modified),
        }))
    }

    /// Deletes the file at `path` (gone already is fine) and the folders it leaves empty.
    pub(super) async fn remove(&self, path: &Path) {
        match tokio::fs::remove_file(path).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "storage twin: cannot delete an object file");
                return;
            }
        }
        self.remove_empty_folders(path).await;
    }

    /// Removes the folders above `path` that are empty, up to (not including) the root.
    async fn remove_empty_folders(&self, path: &Path) {
        let mut folder = path.parent();
        while let Some(current) = folder {
            if current == self.root || !current.starts_with(&self.root) {
                break;
            }
            if tokio::fs::remove_dir(current).await.is_err() {
                break;
            }
            folder = current.parent();
        }
    }
}

/// Storage's (S3's) `ETag`: the MD5 of the bytes in hex, in quotes.
fn e_tag(md5: &[u8]) -> String {
    let hex: String = md5.iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> ObjectFiles {
        ObjectFiles::new(PathBuf::from("/srv/storage"))
    }

    #[test]
    fn object_paths_stay_inside_the_root() {
        assert_eq!(
            files().path("avatars", "u1/avatar", Some("v1")).unwrap(),
            PathBuf::from("/srv/storage/avatars/u1/avatar/v1")
        );
        assert_eq!(
            files().path("avatars", "u1//avatar", None).unwrap(),
            PathBuf::from("/srv/storage/avatars/u1/avatar")
        );
        for (bucket, name, reason) in [
            (
                "avatars",
                "u1/../../etc/passwd",
                "contains dot path segment",
            ),
            ("avatars", "./x", "contains dot path segment"),
            ("avatars", "a\\..\\b", "contains dot path segment"),
            ("avatars", "a\0b", "contains null byte"),
            ("/etc", "passwd", "must be a relative path"),
            ("..", "x", "contains dot path segment"),
            ("C:\\x", "y", "must not be an absolute Windows path"),
        ] {
            let error = files().path(bucket, name, Some("v")).unwrap_err();
            assert_eq!(
                error,
                StorageError::invalid_path(&format!("{bucket}/{name}/v"), reason),
                "{bucket}/{name}"
            );
        }
    }

    #[test]
    fn e_tags_are_quoted_md5s() {
        assert_eq!(
            e_tag(Md5::digest(b"").as_slice()),
            "\"d41d8cd98f00b204e9800998ecf8427e\""
        );
    }
}
