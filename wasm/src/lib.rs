//! # persist-queue-wasm
//!
//! The future home of the `#[wasm_bindgen]` exports and the npm package
//! `persist-queue-wasm` (IndexedDB and localStorage backends). It exports
//! nothing yet; it exists so the workspace has its final shape.

#![no_std]

pub use persist_queue_core::Durability;
