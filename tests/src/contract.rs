//! The `Storage` contract, checked the same way on every storage.

use persist_queue_core::{Blob, Storage};

fn read_all<S: Storage>(s: &mut S, blob: Blob) -> Vec<u8> {
    let len = s.size(blob).expect("size").expect("exists");
    let mut buf = vec![0; usize::try_from(len).expect("len")];
    let n = s.read(blob, 0, &mut buf).expect("read");
    buf.truncate(n);
    buf
}

/// Every method's documented contract, on an empty storage.
pub fn storage_contract<S: Storage>(mut s: S)
where
    S::Error: std::fmt::Debug,
{
    // A missing blob: no size, read is an error, remove succeeds.
    assert_eq!(s.size(Blob::Chunk(0)).expect("size"), None);
    assert!(s.read(Blob::Chunk(0), 0, &mut [0; 4]).is_err());
    s.remove(Blob::Chunk(0)).expect("removing a missing blob succeeds");
    assert!(s.list().expect("list").is_empty());

    // Append creates, then extends.
    s.append(Blob::Chunk(0), b"hello").expect("append");
    s.append(Blob::Chunk(0), b" world").expect("append");
    assert_eq!(s.size(Blob::Chunk(0)).expect("size"), Some(11));
    assert_eq!(read_all(&mut s, Blob::Chunk(0)), b"hello world");

    // Reads are short only at the end, and 0 past it.
    let mut buf = [0u8; 8];
    assert_eq!(s.read(Blob::Chunk(0), 6, &mut buf).expect("read"), 5);
    assert_eq!(&buf[..5], b"world");
    assert_eq!(s.read(Blob::Chunk(0), 11, &mut buf).expect("read at end"), 0);
    assert_eq!(s.read(Blob::Chunk(0), 50, &mut buf).expect("read past end"), 0);

    // Truncate shortens; later appends continue from the new end.
    s.truncate(Blob::Chunk(0), 5).expect("truncate");
    s.append(Blob::Chunk(0), b"!").expect("append");
    assert_eq!(read_all(&mut s, Blob::Chunk(0)), b"hello!");

    // Replace swaps the whole content, for an existing or a new blob.
    s.replace(Blob::Meta, b"first").expect("replace new");
    s.replace(Blob::Meta, b"2nd").expect("replace existing");
    assert_eq!(read_all(&mut s, Blob::Meta), b"2nd");
    s.append(Blob::Meta, b"+").expect("append after replace");
    assert_eq!(read_all(&mut s, Blob::Meta), b"2nd+");

    // Large appends across many chunks, listed exactly.
    let big = vec![7u8; 300_000];
    for n in 1..4 {
        s.append(Blob::Chunk(n), &big).expect("big append");
    }
    let mut listed = s.list().expect("list");
    listed.sort();
    assert_eq!(listed, vec![Blob::Meta, Blob::Chunk(0), Blob::Chunk(1), Blob::Chunk(2), Blob::Chunk(3)]);
    assert_eq!(read_all(&mut s, Blob::Chunk(2)), big);

    // A flush after writes succeeds; removal forgets the blob.
    s.sync().expect("sync");
    s.remove(Blob::Chunk(1)).expect("remove");
    assert_eq!(s.size(Blob::Chunk(1)).expect("size"), None);
    assert!(!s.list().expect("list").contains(&Blob::Chunk(1)));
    s.sync().expect("sync after remove");
}
