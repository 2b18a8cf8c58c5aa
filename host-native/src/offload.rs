//! Keeping disk flushes off async executors.

/// Runs `f` on `handle`: on the [`blocking`] thread pool if it may wait for
/// a disk flush (so no executor thread blocks), inline otherwise.
pub(crate) async fn offload<H, R>(handle: &H, flushes: bool, f: impl FnOnce(&H) -> R + Send + 'static) -> R
where
    H: Clone + Send + 'static,
    R: Send + 'static,
{
    if flushes {
        let h = handle.clone();
        blocking::unblock(move || f(&h)).await
    } else {
        f(handle)
    }
}
