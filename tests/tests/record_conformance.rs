//! The record-store contract and the record-queue suite on every table.

persist_queue_tests::record_conformance!(memory, persist_queue_tests::MemoryTableHarness);
persist_queue_tests::record_conformance!(sqlite, persist_queue_tests::SqliteHarness);
persist_queue_tests::record_conformance!(log_memory, persist_queue_tests::LogMemoryHarness);
persist_queue_tests::record_conformance!(log_files, persist_queue_tests::LogFsHarness);
persist_queue_tests::record_conformance!(postgres, persist_queue_tests::PgHarness);
persist_queue_tests::record_conformance!(mysql, persist_queue_tests::MySqlHarness);
persist_queue_tests::record_conformance!(mysql8_statements, persist_queue_tests::MySql8Harness);

/// The one list of test names (`with_record_test_names!`) names every
/// public test function of the suite and the contract, so no runner can
/// miss one.
#[test]
fn every_suite_function_is_listed() {
    let src = |f: &str| std::fs::read_to_string(format!("{}/src/{f}", env!("CARGO_MANIFEST_DIR"))).expect(f);
    let suite = src("record_suite.rs");
    let list = &suite[suite.find("macro_rules! with_record_test_names").expect("the list")..];
    let listed: Vec<&str> =
        list.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    for file in ["record_suite.rs", "table_contract.rs"] {
        for line in src(file).lines() {
            if let Some(rest) = line.strip_prefix("pub async fn ") {
                let name = rest.split(['<', '(']).next().expect("a name");
                assert!(listed.contains(&name), "{file}: `{name}` is not in with_record_test_names!");
            }
        }
    }
}
