//! [`Image`]: what a directory holds — a crash state, ready to be written to disk.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::Path;

/// The contents of a directory tree: regular files by relative path (`"a/b"`) and the
/// subdirectories (the root itself is implied).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Image {
    /// Every regular file and its bytes.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Every subdirectory.
    pub dirs: BTreeSet<String>,
}

impl Image {
    /// Reads the tree under `root` (regular files and directories; anything else is
    /// skipped).
    pub fn read(root: &Path) -> io::Result<Image> {
        let mut image = Image::default();
        read_into(root, "", &mut image)?;
        Ok(image)
    }

    /// Writes the image under `root`, which must not exist yet (its parent must).
    pub fn write_to(&self, root: &Path) -> io::Result<()> {
        fs::create_dir(root)?;
        for dir in &self.dirs {
            fs::create_dir_all(root.join(dir))?;
        }
        for (path, bytes) in &self.files {
            fs::write(root.join(path), bytes)?;
        }
        Ok(())
    }

    /// A 64-bit digest of the whole image (stable across runs and machines).
    pub fn digest(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }

    /// The file names and sizes, for messages: `wal-000001.log=120 LOCK=0`.
    pub fn summary(&self) -> String {
        let files = self
            .files
            .iter()
            .map(|(name, bytes)| format!("{name}={}", bytes.len()));
        let dirs = self.dirs.iter().map(|d| format!("{d}/"));
        let all: Vec<String> = dirs.chain(files).collect();
        if all.is_empty() {
            "(empty)".into()
        } else {
            all.join(" ")
        }
    }
}

fn read_into(root: &Path, prefix: &str, image: &mut Image) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(root.join(prefix))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let ty = entry.file_type()?;
        if ty.is_dir() {
            image.dirs.insert(path.clone());
            read_into(root, &path, image)?;
        } else if ty.is_file() {
            image.files.insert(path, fs::read(entry.path())?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_round_trips_through_the_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let mut image = Image::default();
        image.files.insert("LOCK".into(), Vec::new());
        image.files.insert("sub/x".into(), b"abc".to_vec());
        image.dirs.insert("sub".into());
        let root = tmp.path().join("state");
        image.write_to(&root).unwrap();
        let back = Image::read(&root).unwrap();
        assert_eq!(back, image);
        assert_eq!(back.digest(), image.digest());
        assert_eq!(image.summary(), "sub/ LOCK=0 sub/x=3");
    }
}
