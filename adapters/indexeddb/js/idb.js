// The few IndexedDB calls that are easier as promises. Each settles exactly
// once, and no callback outlives its request or transaction.

// A request's result, or its error (the DOMException, default prevented so
// that the transaction decides, not the request).
export function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = (e) => { e.preventDefault(); reject(req.error); };
  });
}

// A transaction over `stores` with IndexedDB's durability hint ("strict" or
// "relaxed"; browsers without the hint ignore the option).
export function transaction(db, stores, mode, durability) {
  return db.transaction(stores, mode, { durability });
}

// Resolves when the transaction commits (for "strict": on stable storage),
// rejects with its error when it aborts.
export function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException("transaction aborted", "AbortError"));
  });
}


// The schemas (FORMAT.md, "IndexedDB"). A queue: records by id (the
// store's key generator: never reused), sparse indexes of the ready
// records in id and in [priority, id] order, every
// record by status, live records by unique key; one meta entry. A map:
// entries by key.
const SCHEMAS = {
  queue(db) {
    const records = db.createObjectStore("records", { keyPath: "id", autoIncrement: true });
    records.createIndex("ready", ["q", "id"]);
    records.createIndex("prio", ["qp", "id"]);
    records.createIndex("status", "st");
    records.createIndex("unique", "u", { unique: true });
    records.createIndex("timed", "v");
    db.createObjectStore("payloads");
    db.createObjectStore("meta");
  },
  map(db) {
    db.createObjectStore("entries");
  },
};

// The changes from each older version of a schema (FORMAT.md,
// "IndexedDB"): version 2 of a queue adds the sparse index of leased and
// delayed records by the time they are due.
const UPGRADES = {
  queue(tx, oldVersion) {
    if (oldVersion < 2) tx.objectStore("records").createIndex("timed", "v");
  },
  map() {},
};

// Opens `name` at `version`, creating the schema `schema` ("queue", "map").
// Rejects with a DOMException named "BlockedError" when another connection
// keeps an older version open and does not close.
export function open(name, version, schema) {
  return new Promise((resolve, reject) => {
    const factory = globalThis.indexedDB;
    if (!factory) {
      reject(new DOMException("IndexedDB is not available here", "NotSupportedError"));
      return;
    }
    const req = factory.open(name, version);
    req.onupgradeneeded = (e) => {
      if (e.oldVersion === 0) SCHEMAS[schema](req.result);
      else UPGRADES[schema](req.transaction, e.oldVersion);
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab deletes or upgrades the database: let it, and fail our
      // later transactions with InvalidStateError instead of blocking it.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    req.onerror = (e) => { e.preventDefault(); reject(req.error); };
    req.onblocked = () => reject(new DOMException("another connection keeps an older version of " + name + " open", "BlockedError"));
  });
}

// Deletes the database `name`.
export function remove(name) {
  return new Promise((resolve, reject) => {
    const req = globalThis.indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = (e) => { e.preventDefault(); reject(req.error); };
    req.onblocked = () => {};
  });
}
