//! SQL fragments every SQL record store shares (SQLite, PostgreSQL,
//! MySQL). They are built from the core's enums only, never from user text:
//! the order of a queue kind, and sets of status codes.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::records::order::Order;
use crate::records::record::StatusSet;

/// The `ORDER BY` terms of `order` over the columns `id` and `priority`.
pub fn order_by(order: Order) -> &'static str {
    match order {
        Order::Fifo => "id ASC",
        Order::Filo => "id DESC",
        Order::Priority => "priority ASC, id ASC",
    }
}

/// `status IN (1,2)` (`status = 1` for one code, a false condition for
/// none): the codes of `set`.
pub fn status_in(set: StatusSet) -> String {
    let codes: Vec<String> = set.iter().map(|s| s.code().to_string()).collect();
    match codes.as_slice() {
        [] => "1 = 0".into(),
        [one] => alloc::format!("status = {one}"),
        many => alloc::format!("status IN ({})", many.join(",")),
    }
}
