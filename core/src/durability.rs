//! The named durability levels, defined once for every backend.

/// How far a write has travelled when the call that made it returns.
///
/// | level | survives a process crash | survives power loss | cost per put (fs) |
/// |---|---|---|---|
/// | [`Durability::Buffered`] | yes | no (recent writes may be lost; the queue still opens) | one `write()` |
/// | [`Durability::Synced`] | yes | yes | one `fdatasync`, shared by concurrent puts |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Durability {
    /// Written to the operating system (page cache) before returning:
    /// survives `kill -9` of the process, not a power cut. persist-queue's
    /// default behaviour.
    #[default]
    Buffered,
    /// On stable storage before returning (`fdatasync`, directory `fsync`
    /// when a file was created, renamed or removed). Concurrent writers
    /// share flushes (group commit).
    Synced,
}

impl Durability {
    /// The stable lower-case name used in configuration and in `pq bench`.
    pub fn name(self) -> &'static str {
        match self {
            Durability::Buffered => "buffered",
            Durability::Synced => "synced",
        }
    }

    /// Parses [`Durability::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "buffered" => Some(Durability::Buffered),
            "synced" => Some(Durability::Synced),
            _ => None,
        }
    }

    /// Whether writes must be flushed before the call returns.
    pub fn is_synced(self) -> bool {
        matches!(self, Durability::Synced)
    }
}
