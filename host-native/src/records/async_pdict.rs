//! `AsyncPDict`: the persistent dictionary for async code. It has a twin
//! of every method of [`PDict`] (`tests/async_twins.rs` fails when one is
//! missing); the pages of an iteration are fetched on the blocking pool.

use persist_queue_core::records::{MapOutcome, MapPlan};

use crate::codec::Codec;
use crate::error::Result;
use crate::records::pdict::{PAGE, PDict, wrong_outcome};

/// An async face over a [`PDict`] (`d.to_async()`): every store access
/// runs on the [`blocking`] pool, so no executor thread waits for a disk
/// flush or a database server.
///
/// ```
/// # smol::block_on(async {
/// use persist_queue::PDict;
///
/// let d = PDict::in_memory().open::<String, u32>()?.to_async();
/// d.insert("a".to_string(), 1).await?;
/// assert_eq!(d.get("a".to_string()).await?, Some(1));
/// assert_eq!(d.iter().await?, vec![("a".to_string(), 1)]);
/// # Ok::<(), persist_queue::Error>(())
/// # }).unwrap();
/// ```
pub struct AsyncPDict<K, V, C> {
    inner: PDict<K, V, C>,
}

impl<K, V, C: Clone> Clone for AsyncPDict<K, V, C> {
    fn clone(&self) -> Self {
        AsyncPDict { inner: self.inner.clone() }
    }
}

impl<K, V, C> std::fmt::Debug for AsyncPDict<K, V, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncPDict").finish_non_exhaustive()
    }
}

impl<K, V, C: Codec<K> + Codec<V>> PDict<K, V, C> {
    /// An async handle on the same map.
    pub fn to_async(&self) -> AsyncPDict<K, V, C> {
        AsyncPDict { inner: self.clone() }
    }
}

impl<K, V, C> AsyncPDict<K, V, C>
where
    K: Send + 'static,
    V: Send + 'static,
    C: Codec<K> + Codec<V>,
{
    /// The blocking handle on the same map.
    pub fn blocking(&self) -> &PDict<K, V, C> {
        &self.inner
    }

    /// Executes `plan` on the blocking pool.
    async fn execute(&self, plan: MapPlan) -> Result<MapOutcome> {
        crate::offload::offload(&self.inner, true, move |d| d.execute(&plan)).await
    }

    fn key(&self, key: &K) -> Result<Vec<u8>> {
        Codec::<K>::encode(&self.inner.codec, key)
    }

    /// Sets `key` to `value`; returns the previous value.
    pub async fn insert(&self, key: K, value: V) -> Result<Option<V>> {
        let plan =
            MapPlan::Insert { key: self.key(&key)?, value: Codec::<V>::encode(&self.inner.codec, &value)? };
        let o = self.execute(plan).await?;
        self.inner.value(o)
    }

    /// The value of `key`.
    pub async fn get(&self, key: K) -> Result<Option<V>> {
        let o = self.execute(MapPlan::Get { key: self.key(&key)? }).await?;
        self.inner.value(o)
    }

    /// Whether `key` is set.
    pub async fn contains_key(&self, key: K) -> Result<bool> {
        Ok(matches!(self.execute(MapPlan::Get { key: self.key(&key)? }).await?, MapOutcome::Value(Some(_))))
    }

    /// Deletes `key`; returns its value.
    pub async fn remove(&self, key: K) -> Result<Option<V>> {
        let o = self.execute(MapPlan::Remove { key: self.key(&key)? }).await?;
        self.inner.value(o)
    }

    /// How many entries.
    pub async fn len(&self) -> Result<u64> {
        match self.execute(MapPlan::Len).await? {
            MapOutcome::Len(n) => Ok(n),
            _ => Err(wrong_outcome()),
        }
    }

    /// Whether the map is empty.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }

    /// Every entry in key-encoding order, fetched a page at a time.
    pub async fn iter(&self) -> Result<Vec<(K, V)>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let plan = MapPlan::Scan { after: after.take(), limit: PAGE };
            let MapOutcome::Entries(page) = self.execute(plan).await? else { return Err(wrong_outcome()) };
            let last = page.len() < PAGE as usize;
            after = page.last().map(|(k, _)| k.clone());
            for (k, v) in page {
                out.push((
                    Codec::<K>::decode(&self.inner.codec, &k)?,
                    Codec::<V>::decode(&self.inner.codec, &v)?,
                ));
            }
            if last {
                return Ok(out);
            }
        }
    }

    /// Every key.
    pub async fn keys(&self) -> Result<Vec<K>> {
        Ok(self.iter().await?.into_iter().map(|(k, _)| k).collect())
    }

    /// Every value.
    pub async fn values(&self) -> Result<Vec<V>> {
        Ok(self.iter().await?.into_iter().map(|(_, v)| v).collect())
    }
}
