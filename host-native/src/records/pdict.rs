//! `PDict`: persist-queue's persistent dictionary, with typed keys and
//! iteration.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use persist_queue_core::Durability;
use persist_queue_core::records::{MapOutcome, MapPlan, MapTable, MemoryMap, complete};

use crate::records::store::MapStore;

use crate::codec::{Codec, Postcard};
use crate::error::{Error, Result};

/// A map store answered a plan with another plan's outcome (a store bug).
pub(crate) fn wrong_outcome() -> Error {
    Error::Protocol("a map plan answered with another plan's outcome")
}

/// Marks the key and value types without owning them (keeps the handle
/// `Send + Sync` whatever `K` and `V` are).
type KeyValue<K, V> = fn(K, V) -> (K, V);

/// Entries fetched per page while iterating.
pub(crate) const PAGE: u32 = 256;

/// A persistent map from `K` to `V` (persist-queue's `PDict`), in SQLite
/// or in memory. Keys are compared by their encoding, so keys of different
/// types never collide (`5` and `"5"` are different keys). Unlike
/// persist-queue's, it iterates (`iter`, `keys`, `values`), a page at a
/// time. A cheap `Clone` handle, `Send + Sync`.
pub struct PDict<K, V, C = Postcard> {
    map: Arc<Mutex<MapStore>>,
    pub(crate) codec: C,
    _kv: PhantomData<KeyValue<K, V>>,
}

impl<K, V, C: Clone> Clone for PDict<K, V, C> {
    fn clone(&self) -> Self {
        PDict { map: Arc::clone(&self.map), codec: self.codec.clone(), _kv: PhantomData }
    }
}

impl<K, V, C> std::fmt::Debug for PDict<K, V, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PDict").finish_non_exhaustive()
    }
}

/// Settings of a [`PDict`].
#[derive(Clone, Debug)]
#[must_use]
pub struct PDictBuilder<C = Postcard> {
    dir: Option<PathBuf>,
    /// A database server instead of a directory.
    server: Option<crate::ServerAddress>,
    file: String,
    name: String,
    durability: Durability,
    codec: C,
}

impl PDictBuilder<Postcard> {
    fn new(dir: Option<PathBuf>) -> Self {
        PDictBuilder {
            dir,
            server: None,
            file: "data.db".into(),
            name: "default".into(),
            durability: Durability::Synced,
            codec: Postcard,
        }
    }
}

impl<C> PDictBuilder<C> {
    /// The map's name (`[A-Za-z0-9_]{1,64}`, default `default`): maps of
    /// different names are independent.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// `Synced` (default) or `Buffered`.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The database file's name inside the directory (default `data.db`).
    pub fn db_file_name(mut self, file: impl Into<String>) -> Self {
        self.file = file.into();
        self
    }

    /// The serializer for keys and values (default [`Postcard`]).
    pub fn codec<C2>(self, codec: C2) -> PDictBuilder<C2> {
        PDictBuilder {
            dir: self.dir,
            server: self.server,
            file: self.file,
            name: self.name,
            durability: self.durability,
            codec,
        }
    }

    /// Opens (or creates) the map.
    pub fn open<K, V>(self) -> Result<PDict<K, V, C>>
    where
        C: Codec<K> + Codec<V>,
    {
        crate::records::builder::check_name("map", &self.name)?;
        let table = persist_queue_core::records::store_name("dict", &self.name);
        if let Some(at) = &self.server {
            let legacy = format!("dict_{}", self.name);
            let map = crate::records::server::open_map(
                at,
                &crate::records::server::ServerOptions::default(),
                &table,
                &legacy,
                self.durability,
            )?;
            return Ok(PDict { map: Arc::new(Mutex::new(map)), codec: self.codec, _kv: PhantomData });
        }
        let map = match &self.dir {
            None => MapStore::Memory(MemoryMap::default()),
            #[cfg(feature = "sqlite")]
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let m = persist_queue_sqlite::SqliteMap::open(dir.join(&self.file), &table, self.durability)?;
                MapStore::Sqlite(Box::new(m))
            }
            #[cfg(not(feature = "sqlite"))]
            Some(_) => return Err(crate::error::Misconfiguration::NotBuilt("sqlite").into()),
        };
        Ok(PDict { map: Arc::new(Mutex::new(map)), codec: self.codec, _kv: PhantomData })
    }
}

impl PDict<(), (), Postcard> {
    /// A builder for the map in the SQLite database `dir/data.db`.
    pub fn builder(dir: impl AsRef<Path>) -> PDictBuilder {
        PDictBuilder::new(Some(dir.as_ref().to_path_buf()))
    }

    /// A builder for the map on a database server (`postgresql://…` or
    /// `mysql://…`, features `postgres` / `mysql`).
    pub fn server(at: impl Into<crate::ServerAddress>) -> PDictBuilder {
        PDictBuilder { server: Some(at.into()), ..PDictBuilder::new(None) }
    }

    /// A builder for a map in memory.
    pub fn in_memory() -> PDictBuilder {
        PDictBuilder::new(None)
    }
}

impl<K, V> PDict<K, V, Postcard>
where
    Postcard: Codec<K> + Codec<V>,
{
    /// Opens (or creates) the map `default` in `dir/data.db`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        PDict::builder(dir).open()
    }
}

impl<K, V, C: Codec<K> + Codec<V>> PDict<K, V, C> {
    pub(crate) fn execute(&self, plan: &MapPlan) -> Result<MapOutcome> {
        complete(self.map.lock().unwrap_or_else(|e| e.into_inner()).execute_map(plan))
    }

    pub(crate) fn value(&self, o: MapOutcome) -> Result<Option<V>> {
        match o {
            MapOutcome::Value(Some(b)) => Codec::<V>::decode(&self.codec, &b).map(Some),
            MapOutcome::Value(None) => Ok(None),
            _ => Err(wrong_outcome()),
        }
    }

    /// Sets `key` to `value` (`d[k] = v`); returns the previous value.
    pub fn insert(&self, key: &K, value: &V) -> Result<Option<V>> {
        let plan = MapPlan::Insert { key: self.codec.encode(key)?, value: self.codec.encode(value)? };
        let o = self.execute(&plan)?;
        self.value(o)
    }

    /// The value of `key` (`d.get(k)`).
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        let o = self.execute(&MapPlan::Get { key: self.codec.encode(key)? })?;
        self.value(o)
    }

    /// Whether `key` is set (`k in d`).
    pub fn contains_key(&self, key: &K) -> Result<bool> {
        Ok(matches!(
            self.execute(&MapPlan::Get { key: self.codec.encode(key)? })?,
            MapOutcome::Value(Some(_))
        ))
    }

    /// Deletes `key` (`del d[k]`; a missing key is fine); returns its value.
    pub fn remove(&self, key: &K) -> Result<Option<V>> {
        let o = self.execute(&MapPlan::Remove { key: self.codec.encode(key)? })?;
        self.value(o)
    }

    /// How many entries (`len(d)`).
    pub fn len(&self) -> Result<u64> {
        match self.execute(&MapPlan::Len)? {
            MapOutcome::Len(n) => Ok(n),
            _ => Err(wrong_outcome()),
        }
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Every entry in key-encoding order, fetched a page at a time (memory
    /// stays bounded whatever the map's size). Entries changed during the
    /// iteration may or may not be seen.
    pub fn iter(&self) -> Iter<'_, K, V, C> {
        Iter { dict: self, after: None, page: Vec::new().into_iter(), done: false }
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + '_ {
        self.iter().map(|r| r.map(|(k, _)| k))
    }

    /// Every value.
    pub fn values(&self) -> impl Iterator<Item = Result<V>> + '_ {
        self.iter().map(|r| r.map(|(_, v)| v))
    }
}

/// Iterator over a [`PDict`]'s entries.
pub struct Iter<'a, K, V, C> {
    dict: &'a PDict<K, V, C>,
    after: Option<Vec<u8>>,
    page: std::vec::IntoIter<(Vec<u8>, Vec<u8>)>,
    done: bool,
}

impl<K, V, C: Codec<K> + Codec<V>> Iterator for Iter<'_, K, V, C> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((k, v)) = self.page.next() {
                self.after = Some(k.clone());
                let codec = &self.dict.codec;
                return Some(
                    Codec::<K>::decode(codec, &k).and_then(|k| Ok((k, Codec::<V>::decode(codec, &v)?))),
                );
            }
            if self.done {
                return None;
            }
            match self.dict.execute(&MapPlan::Scan { after: self.after.clone(), limit: PAGE }) {
                Ok(MapOutcome::Entries(e)) => {
                    self.done = e.len() < PAGE as usize;
                    self.page = e.into_iter();
                }
                Ok(_) => {
                    self.done = true;
                    return Some(Err(wrong_outcome()));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
