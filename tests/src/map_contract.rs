//! The map contract (`MapPlan` → `MapTable` → `MapOutcome`, persist-queue's
//! `PDict`), checked the same way on every map store, native or in a
//! browser: each assertion is one sentence of a plan's doc.

use persist_queue_core::records::{MapOutcome, MapPlan, MapTable};

async fn execute<T: MapTable>(t: &mut T, plan: MapPlan) -> MapOutcome {
    t.execute_map(&plan).await.unwrap_or_else(|e| panic!("{plan:?} failed: {e}"))
}

async fn value<T: MapTable>(t: &mut T, plan: MapPlan) -> Option<Vec<u8>> {
    match execute(t, plan).await {
        MapOutcome::Value(v) => v,
        other => panic!("expected a value, got {other:?}"),
    }
}

async fn insert<T: MapTable>(t: &mut T, k: &[u8], v: &[u8]) -> Option<Vec<u8>> {
    value(t, MapPlan::Insert { key: k.to_vec(), value: v.to_vec() }).await
}

/// Insert answers the previous value; get and remove see it; removing a
/// missing key succeeds; len counts entries.
pub async fn set_get_remove<T: MapTable>(mut t: T) {
    assert_eq!(insert(&mut t, b"a", b"1").await, None);
    assert_eq!(insert(&mut t, b"a", b"2").await, Some(b"1".to_vec()));
    assert_eq!(value(&mut t, MapPlan::Get { key: b"a".to_vec() }).await, Some(b"2".to_vec()));
    assert_eq!(value(&mut t, MapPlan::Get { key: b"zz".to_vec() }).await, None);
    assert_eq!(insert(&mut t, b"b", b"").await, None, "an empty value is a value");
    assert!(matches!(execute(&mut t, MapPlan::Len).await, MapOutcome::Len(2)));
    assert_eq!(value(&mut t, MapPlan::Remove { key: b"a".to_vec() }).await, Some(b"2".to_vec()));
    assert_eq!(value(&mut t, MapPlan::Remove { key: b"a".to_vec() }).await, None);
    assert_eq!(value(&mut t, MapPlan::Get { key: b"b".to_vec() }).await, Some(Vec::new()));
    assert!(matches!(execute(&mut t, MapPlan::Len).await, MapOutcome::Len(1)));
}

/// Scans page through the entries in key-byte order (`5` and `"5"` are
/// different keys, bytes 0x00 and 0xFF sort as bytes), after a key.
pub async fn scans_in_key_byte_order<T: MapTable>(mut t: T) {
    let keys: [&[u8]; 6] = [b"\xff", b"b", b"", b"a\x00", b"a", b"\x00"];
    for (i, k) in keys.iter().enumerate() {
        insert(&mut t, k, &[i as u8; 700]).await;
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let MapOutcome::Entries(page) =
            execute(&mut t, MapPlan::Scan { after: after.clone(), limit: 2 }).await
        else {
            panic!("expected entries")
        };
        let Some((last, _)) = page.last() else { break };
        assert!(page.len() <= 2, "a page holds at most limit entries");
        after = Some(last.clone());
        seen.extend(page);
    }
    let mut want: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
    want.sort();
    assert_eq!(seen.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), want);
    let b = seen.iter().find(|(k, _)| k == b"b").expect("b");
    assert_eq!(b.1, vec![1u8; 700], "values come back byte for byte");
}
