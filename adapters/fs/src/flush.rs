//! A detached flush: `fdatasync` of written files, `fsync` of the directory.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use persist_queue_core::Flush;

/// The files (and directory) to flush; runs without the storage.
#[derive(Debug, Default)]
pub struct FsFlush {
    pub(crate) files: Vec<(PathBuf, Arc<File>)>,
    pub(crate) dir: Option<PathBuf>,
    pub(crate) trace: Option<crate::trace::Trace>,
}

impl Flush for FsFlush {
    type Error = io::Error;

    fn sync(&mut self) -> io::Result<()> {
        for (path, file) in &self.files {
            file.sync_data().map_err(|e| crate::storage::context(e, "fdatasync", path))?;
            if let Some(t) = &self.trace {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                t.push(crate::trace::Call::SyncData(name));
            }
        }
        if let Some(dir) = &self.dir {
            sync_dir(dir)?;
            if let Some(t) = &self.trace {
                t.push(crate::trace::Call::SyncDir);
            }
        }
        Ok(())
    }
}

/// `fsync` of a directory, so that creations, renames and removals in it
/// are durable.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &std::path::Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| crate::storage::context(e, "fsync", dir))
}

/// Windows cannot open a directory for `fsync`; NTFS journals metadata.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &std::path::Path) -> io::Result<()> {
    Ok(())
}
